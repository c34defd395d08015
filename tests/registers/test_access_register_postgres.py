"""The register from another connection, as KMD's gateway reads it while support emergency-closes an access.

Runs only on PostgreSQL, where each thread has its own real connection and sees only committed data.
"""

import datetime
import json
import threading

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.utils import timezone

from accounts.tokens import token_create
from ordering import services

from ..conftest import make_order

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent connections"),
]


def read_elsewhere(key: str) -> list[str]:
    """The orders the register lists, read through the whole stack on a connection of its own."""
    result: dict = {}

    def run() -> None:
        try:
            response = Client().get(
                "/api/v1/access-register", {"environment": "production"}, HTTP_AUTHORIZATION=f"Bearer {key}"
            )
            result["orders"] = [entry["order"] for entry in json.loads(response.content)["accesses"]]
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    return result["orders"]


def test_another_connection_sees_the_emergency_closure_exactly_when_it_commits(cast):
    _token, key = token_create(
        user=None,
        name="KMD gateway",
        scopes=["register"],
        last_day=timezone.localdate() + datetime.timedelta(days=30),
        actor=None,
        kind="gateway",
    )
    order = make_order(cast, "active")
    assert read_elsewhere(key) == [order.reference]

    with transaction.atomic():
        services.order_emergency_close(order=order, actor=cast.support, reason="Sikkerhedsbrud hos leverandøren")
        # Not committed yet: the gateway still sees the access, and never a half-closed one.
        assert read_elsewhere(key) == [order.reference]

    assert read_elsewhere(key) == []
