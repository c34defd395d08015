"""The API's cast: the shared one (tests/conftest.py), each with a personal token, and a client that sends it."""

from datetime import timedelta

import pytest
from django.core.cache import caches
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from accounts.tokens import token_create

# Each role of the cast, by the name tests/conftest.py gives it.
ROLES = ["orderer_a", "signatory_a", "am_a", "support"]


@pytest.fixture(autouse=True)
def fresh_rate_limits(settings):
    """Every test starts with the whole allowance: the counts live in a cache, not in the database."""
    caches[settings.API_THROTTLE_CACHE].clear()
    yield
    caches[settings.API_THROTTLE_CACHE].clear()


def make_token(user, scopes=("read", "order"), *, days: int = 30, kind: str = ApiToken.Kind.PERSONAL) -> str:
    """A token of `user` (its actor too) that works through the `days`-th day from today."""
    _token, secret = token_create(
        user=user,
        name=f"test {len(scopes)}",
        scopes=list(scopes),
        last_day=timezone.localdate() + timedelta(days=days),
        actor=user,
        kind=kind,
    )
    return secret


def bearer(secret: str, **headers) -> Client:
    return Client(headers={"Authorization": f"Bearer {secret}", **headers})


@pytest.fixture
def api(cast):
    """`api("orderer_a")`: a client with a read+order token of that member of the cast."""

    def client_for(person: str, scopes=("read", "order"), **headers) -> Client:
        return bearer(make_token(getattr(cast, person), scopes), **headers)

    return client_for


@pytest.fixture
def gateway_token(db) -> str:
    return make_token(None, ("register",), kind=ApiToken.Kind.GATEWAY)


@pytest.fixture
def world(cast):
    """Orders of both customers in the states the API shows differently, their addenda's PDFs, and invoices."""
    from billing.services import billing_run
    from ordering import services
    from ordering.models import Addendum
    from tests.conftest import make_order

    # Each open order asks for other interfaces or another environment: open orders may not overlap.
    states = {
        "draft": {"codes": ("opret-fravaer",)},
        "submitted": {"codes": ("medarbejderoplysninger",)},
        "awaiting_signature": {"codes": ("moedetidsplaner",)},
        # Another system: the rostering system's setup fee is the awaiting order's to pay (fees due once).
        "active": {"codes": ("engangsydelser",), "environment": "test", "system": cast.canteen},
        "withdrawn": {"codes": ("medarbejderoplysninger",), "environment": "test"},
    }
    orders = {
        customer: {
            state: make_order(cast, state, customer=getattr(cast, customer), **facts) for state, facts in states.items()
        }
        for customer in ("customer_a", "customer_b")
    }
    for addendum in Addendum.objects.filter(render_status=Addendum.RenderStatus.PENDING):
        services.addendum_render(addendum.pk)
    billing_run(period=timezone.localdate().replace(day=1), force=True)
    return orders
