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


@pytest.fixture
def trusted_test_environment(settings, tmp_path, pki):
    """The look-alike root (and issuing CA) as the test environment's anchors; no production anchors."""
    from certificates.testing import pem

    directory = tmp_path / "trust-test"
    directory.mkdir()
    (directory / "rod.pem").write_bytes(pem(pki.root))
    (directory / "udstedende.pem").write_bytes(pem(pki.issuing))
    settings.CERTIFICATE_TRUST_DIRS = {"test": [directory], "production": []}
    return directory


@pytest.fixture
def vendor_leaf(pki, cast):
    """A system certificate issued to the own system's vendor."""
    return make_leaf(pki, cvr=cast.own_system.vendor.cvr)


@pytest.fixture
def good_bundle(pki, vendor_leaf):
    from certificates.testing import pem, zip_bytes

    return zip_bytes({"kaede.pem": pem(vendor_leaf, pki.issuing)})


@pytest.fixture
def individual_order(cast, trusted_test_environment, good_bundle):
    """An individual-integration order (the customer's own system, test environment) driven to a state."""
    from certificates.services import certificate_upload
    from tests.conftest import PATH, actors, make_order

    def build(state: str = "draft", *, upload: bool = True):
        order = make_order(cast, "draft", system=cast.own_system, environment="test")
        if upload:
            certificate_upload(order=order, actor=cast.orderer_a, data=good_bundle, filename="kaede.zip")
        who = actors(cast, cast.customer_a)
        for reached, service, role, kwargs in PATH:
            if state == "draft":
                break
            order = service(order=order, actor=who[role], **kwargs)
            if reached == state:
                break
        assert order.state == state
        return order

    return build
