"""Production logs one JSON object per line, naming what background code names; development logs plain lines."""

import io
import json
import logging
import subprocess
from pathlib import Path

import pytest

from config.logs import JsonLinesFormatter
from tests.processes import machine_environment, run_python

# A background failure as the code reports it, in a process configured by config/settings.py alone.
PROGRAM = """
import django, logging
django.setup()
try:
    raise ConnectionError("broker unreachable")
except ConnectionError:
    logging.getLogger("ordering.tasks").exception("Sending failed", extra={"order": 12, "event": 34})
"""


def run_program(**env) -> subprocess.CompletedProcess:
    """PROGRAM in a freshly started process configured by these environment variables."""
    clean = machine_environment(without={"DJANGO_DEBUG", "ALLOWED_HOSTS", "LOG_FORMAT"})
    return run_python(["-c", PROGRAM], base=clean, env=env)


def log_with(**env) -> list[str]:
    result = run_program(**env)
    assert result.returncode == 0, result.stderr
    return [line for line in result.stderr.splitlines() if "Sending failed" in line]


def test_production_logs_a_background_failure_as_one_json_line_naming_the_order_and_event():
    [line] = log_with()
    record = json.loads(line)
    assert {k: record[k] for k in ("level", "logger", "message", "order", "event")} == {
        "level": "ERROR",
        "logger": "ordering.tasks",
        "message": "Sending failed",
        "order": 12,
        "event": 34,
    }
    assert record["time"].endswith("+00:00")
    assert "ConnectionError: broker unreachable" in record["exception"]


@pytest.mark.parametrize("env", [{"DJANGO_DEBUG": "1"}, {"LOG_FORMAT": "text"}])
def test_development_logs_plain_lines(env):
    [line] = log_with(**env)
    assert "ERROR ordering.tasks: Sending failed" in line
    assert not line.startswith("{")


def test_an_unknown_log_format_is_refused():
    result = run_program(LOG_FORMAT="xml")
    assert result.returncode != 0
    assert "LOG_FORMAT is json or text" in result.stderr


def format_one(message: str, *args, **extra) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLinesFormatter())
    logger = logging.getLogger("tests.logging")
    logger.addHandler(handler)
    try:
        logger.warning(message, *args, extra=extra)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_logged_text_cannot_forge_a_line_or_a_field():
    output = format_one("Upload %s refused", 'x.zip\n{"level": "INFO"}', level="INFO", logger="forged")
    [line] = output.splitlines()
    record = json.loads(line)
    assert (record["level"], record["logger"]) == ("WARNING", "tests.logging")
    assert record["message"] == 'Upload x.zip\n{"level": "INFO"} refused'


def test_values_json_cannot_hold_are_written_as_text():
    record = json.loads(format_one("Order changed", order=Path("/orders/12")))
    assert record["order"] == "/orders/12"
