"""A look-alike OCES3 test PKI, made once per test session."""

from datetime import UTC, datetime

import pytest

from certificates.testing import make_leaf, make_pki
from certificates.validation import TrustAnchors


@pytest.fixture(scope="session")
def pki():
    return make_pki()


@pytest.fixture(scope="session")
def other_pki():
    """Another root of the same name: what a wrong or production chain looks like to the test environment."""
    return make_pki(slot=1, unit="")


@pytest.fixture(scope="session")
def leaf(pki):
    return make_leaf(pki)


@pytest.fixture(scope="session")
def trust(pki):
    return TrustAnchors("test", (pki.root,), (pki.issuing,))


@pytest.fixture
def now():
    return datetime.now(UTC)
