"""PostgreSQL: the application's database role is not the audit table's owner and cannot switch its trigger off
(#21). The grants come from `manage.py database_grants ROLE` (README.md, "Database roles"); here a second role
gets them, and the test acts as it, the way the web processes and workers would."""

import uuid
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError

from audit.models import AuditEvent, AuditHead
from audit.trail import audit_record
from audit.verification import audit_verify
from ordering.audit import AuditKind

pytestmark = pytest.mark.postgres


@pytest.fixture
def app_role(db):
    if connection.vendor != "postgresql":
        pytest.skip("database roles are PostgreSQL's")
    role = f"opus_app_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
    call_command("database_grants", role, "--execute", stdout=open("/dev/null", "w"))  # noqa: SIM115
    yield role
    with connection.cursor() as cursor:
        cursor.execute(f"DROP OWNED BY {role}")
        cursor.execute(f"DROP ROLE {role}")


@contextmanager
def acting_as(role: str):
    """Statements inside run as `role`, in a savepoint; one that fails rolls the savepoint back, and the role with
    it (a setting made in a savepoint goes with it)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {role}")
        yield cursor
        cursor.execute("RESET ROLE")


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("DELETE FROM audit_auditevent", "permission denied"),
        ("UPDATE audit_auditevent SET comment = 'x'", "permission denied"),
        ("TRUNCATE audit_auditevent CASCADE", "permission denied"),
        ("ALTER TABLE audit_auditevent DISABLE TRIGGER USER", "must be owner"),
        ("SET LOCAL session_replication_role = replica", "permission denied"),
        ("DELETE FROM audit_audithead", "permission denied"),
    ],
)
def test_the_application_role_cannot_remove_events_or_switch_the_trigger_off(
    cast, order_in, app_role, statement, refusal
):
    order_in("active")
    before = AuditEvent.objects.count()
    with pytest.raises(DatabaseError, match=refusal), acting_as(app_role) as cursor:
        cursor.execute(statement)
    assert AuditEvent.objects.count() == before
    assert audit_verify() == []


def test_the_application_role_appends_events_as_the_application_does(cast, order_in, app_role):
    order = order_in("active")
    with acting_as(app_role):
        event = audit_record(kind=AuditKind.EDIT, order=order, actor=cast.orderer_a, role="orderer", comment="x")
    assert AuditHead.objects.get(pk=1).seq == event.seq
    assert audit_verify() == []


def test_the_tail_cannot_be_cut_by_the_application_role_and_a_rewound_head_shows(cast, order_in, app_role):
    """#21's finding done as the application's role: the newest event cannot be deleted; the head, which that role
    must be able to move, can be set back, and its seal shows it."""
    order_in("active")
    newest, before = AuditEvent.objects.order_by("-seq")[:2]
    with pytest.raises(DatabaseError, match="permission denied"), acting_as(app_role) as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [newest.pk])
    with acting_as(app_role) as cursor:
        cursor.execute("UPDATE audit_audithead SET seq = %s, hash = %s WHERE id = 1", [before.seq, before.hash])
    problems = audit_verify()
    assert problems and "does not match event" in problems[0].message  # the newest event is still there
