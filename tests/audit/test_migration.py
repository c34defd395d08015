"""The move of the audit trail into its own app keeps every event and every seal: a database with events
recorded by the schema before the move (ordering 0021) verifies after migrating, and goes on recording."""

import datetime
import importlib

import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("ordering", "0021_consulting_requests"),
    ("webhooks", "0001_initial"),
    ("audit", None),
]


def migrate(targets=None):
    """To `targets` (the other apps stay where they are), or forward to every app's newest migration. Returns
    the models as they were at the targets, with the other apps' models as they are now."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    leaves = executor.loader.graph.leaf_nodes()
    targets = targets or leaves
    executor.migrate(targets)
    moved = {app for app, _ in targets}
    nodes = [t for t in targets if t[1] is not None] + [leaf for leaf in leaves if leaf[0] not in moved]
    return executor.loader.project_state(nodes).apps


@pytest.fixture
def schema_restored():
    """Whatever happens in the test, the later tests find every app at its newest migration."""
    yield
    migrate()


@pytest.mark.django_db(transaction=True)
def test_events_recorded_before_the_move_verify_after_it_and_the_chain_goes_on(schema_restored):
    old = migrate(BEFORE)
    seal = importlib.import_module("ordering.migrations.0005_audit_chain_keyed").seal
    key = settings.AUDIT_HMAC_KEY.encode("utf-8")
    User = old.get_model("accounts", "User")
    AuditEvent = old.get_model("ordering", "AuditEvent")
    AuditHead = old.get_model("ordering", "AuditHead")
    ContentType = old.get_model("contenttypes", "ContentType")
    person = User.objects.create(username="karen", password=make_password(None))
    subject, _ = ContentType.objects.get_or_create(app_label="accounts", model="user")
    prev = "0" * 64
    for seq in (1, 2):
        event = AuditEvent(
            seq=seq,
            kind="price_list_changed",
            subject_type=subject,
            subject_id=str(person.pk),
            actor=person,
            actor_role="catalogue_admin",
            created_at=datetime.datetime(2026, 11, seq, 9, 0, tzinfo=datetime.UTC),
            comment="Ønsket lukkedato: 31.12.2026." if seq == 2 else "",
            prev_hash=prev,
        )
        event.hash = seal(event, key)
        event.save()
        prev = event.hash
    AuditHead.objects.create(pk=1, seq=2, hash=prev)

    migrate()

    from audit.models import AuditEvent as Moved
    from audit.trail import audit_record
    from audit.verification import audit_verify

    assert audit_verify() == []
    kept = list(Moved.objects.order_by("seq").values_list("seq", "hash", "comment", "actor_kind", "params"))
    assert [row[0] for row in kept] == [1, 2] and kept[1][1] == prev
    assert kept[1][2] == "Ønsket lukkedato: 31.12.2026."  # as written: nothing in a sealed event is rewritten
    assert {row[3] for row in kept} == {"person"} and all(row[4] == {} for row in kept)

    from accounts.models import User as NewUser

    karen = NewUser.objects.get(pk=person.pk)
    with transaction.atomic():
        third = audit_record(kind="price_list_changed", actor=karen, subject=karen, params={"ends_on": "2027-01-01"})
    assert third.seq == 3 and third.prev_hash == prev
    assert audit_verify() == []
