import pytest

from .receiver import Receiver


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture(autouse=True)
def local_receivers_allowed(settings):
    """The tests' receiver listens on plain HTTP at 127.0.0.1, which production refuses (tests/webhooks/test_addresses.py)."""
    settings.WEBHOOK_REQUIRE_HTTPS = False
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
