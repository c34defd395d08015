import pytest

from .workers import RedisServer


@pytest.fixture
def broker(tmp_path):
    """A Redis of the test's own (tests/reliability/workers.py), which the test may kill and start again."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()
