"""The audit trail is chained by a keyed hash; verify_audit_log finds altered and deleted events."""

import pytest
from django.core.management import call_command
from django.db import connection

from audit.models import AuditEvent


@pytest.fixture
def history(cast, order_in):
    order_in("closed")
    order_in("rejected", system=cast.canteen, codes=("engangsydelser",))
    return list(AuditEvent.objects.order_by("seq"))


def run_verify(capsys):
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_audit_log")
        raise SystemExit(0)
    out = capsys.readouterr()
    return exit_info.value.code, out.out + out.err


def raw_sql(sql, params):
    # Tampering happens behind the application's back, as it would in a real incident: on PostgreSQL
    # by a superuser who switches the append-only trigger off for the session.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def test_events_chain_each_to_the_one_before(history):
    assert [e.seq for e in history] == list(range(1, len(history) + 1))
    for before, after in zip(history, history[1:], strict=False):
        assert after.prev_hash == before.hash
    assert all(e.compute_hash() == e.hash for e in history)


def test_an_intact_trail_verifies(history, capsys):
    code, output = run_verify(capsys)
    assert code == 0
    assert f"{len(history)} events" in output


def test_an_altered_comment_is_found(history, capsys):
    target = history[3]
    raw_sql("UPDATE audit_auditevent SET comment = %s WHERE id = %s", ["tampered", target.pk])
    code, output = run_verify(capsys)
    assert code == 1
    assert f"#{target.seq}" in output and "altered" in output


def test_an_altered_actor_is_found(cast, history, capsys):
    target = history[5]
    raw_sql("UPDATE audit_auditevent SET actor_id = %s WHERE id = %s", [cast.outsider.pk, target.pk])
    code, output = run_verify(capsys)
    assert code == 1
    assert f"#{target.seq}" in output


def test_a_deleted_event_in_the_middle_is_found(history, capsys):
    target = history[4]
    raw_sql("DELETE FROM audit_auditevent WHERE id = %s", [target.pk])
    code, output = run_verify(capsys)
    assert code == 1
    assert f"#{target.seq} is missing" in output


def test_deleting_the_newest_event_is_found(history, capsys):
    raw_sql("DELETE FROM audit_auditevent WHERE id = %s", [history[-1].pk])
    code, output = run_verify(capsys)
    assert code == 1
    assert f"#{history[-1].seq} is missing" in output


def test_the_application_cannot_change_or_delete_events(history):
    event = history[0]
    event.comment = "changed"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(comment="x")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
