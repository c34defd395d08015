import io
import json
import logging

import pytest

from config.logs import JsonLinesFormatter


@pytest.fixture
def security_log():
    """The security log as the operator sees it: a function returning its JSON lines, parsed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLinesFormatter())
    logger = logging.getLogger("security")
    logger.addHandler(handler)

    def lines(event: str | None = None) -> list[dict]:
        parsed = [json.loads(line) for line in stream.getvalue().splitlines()]
        return [line for line in parsed if event is None or line["event"] == event]

    yield lines
    logger.removeHandler(handler)
