"""Rewriting the audit trail behind the application's back is detected.

Each attack is done the way someone with database write access would: raw SQL, and on PostgreSQL as a
superuser who switches the append-only trigger off for the session. What the attacker does not have is
the HMAC key (settings.AUDIT_HMAC_KEY) and the checkpoint signing key; one test gives the insider the
HMAC key too, and the signed checkpoints still catch the rewrite.
"""

import datetime
import hashlib
import hmac
import json
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError

from audit.models import AuditEvent, AuditHead
from audit.verification import audit_checkpoint_write, audit_verify, checkpoints_in
from ordering.models import AccessOrder


@pytest.fixture
def history(cast, order_in):
    order_in("closed")
    order_in("rejected", system=cast.canteen, codes=("engangsydelser",))
    order_in("active", system=cast.canteen, codes=("engangsydelser",))
    return list(AuditEvent.objects.order_by("seq"))


@contextmanager
def behind_the_applications_back():
    """A cursor of someone with database access; on PostgreSQL a superuser with triggers off."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        yield cursor
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def rows():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, seq, order_id, kind, subject_type_id, subject_id, from_state, to_state, actor_id, "
            "actor_role, created_at, comment, prev_hash, hash FROM audit_auditevent ORDER BY seq"
        )
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def seal(row: dict, key: bytes | None) -> str:
    """The seal as an attacker would recompute it: the same content, with a key they guess or none."""
    created = row["created_at"]
    if isinstance(created, str):  # SQLite hands back text
        created = datetime.datetime.fromisoformat(created)
    if created.tzinfo is None:
        created = created.replace(tzinfo=datetime.UTC)
    content = {
        "seq": row["seq"],
        "order": row["order_id"],
        "kind": row["kind"],
        "subject_type": row["subject_type_id"],
        "subject_id": row["subject_id"],
        "from": row["from_state"],
        "to": row["to_state"],
        "actor": row["actor_id"],
        "role": row["actor_role"],
        "at": created.astimezone(datetime.UTC).isoformat(),
        "comment": row["comment"],
        "prev": row["prev_hash"],
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    return hmac.new(key, canonical, hashlib.sha256).hexdigest() if key else hashlib.sha256(canonical).hexdigest()


def rechain(cursor, from_seq: int, key: bytes | None) -> None:
    """Recompute every hash from `from_seq` on, and the head, as a careful attacker would."""
    prev = "0" * 64
    for row in rows():
        if row["seq"] >= from_seq:
            row["prev_hash"] = prev
            new = seal(row, key)
            cursor.execute("UPDATE audit_auditevent SET hash = %s WHERE id = %s", [f"~{row['id']}", row["id"]])
            cursor.execute(
                "UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE id = %s", [prev, new, row["id"]]
            )
            prev = new
        else:
            prev = row["hash"]
    last = rows()[-1] if rows() else None
    set_head(cursor, last["seq"] if last else 0, last["hash"] if last else "0" * 64, key=key)


def set_head(cursor, seq: int, hash: str, *, key: bytes | None) -> None:
    """Point the head at event `seq`, sealing it as the attacker can: with the key they hold, or none."""
    message = f"audit-head|{seq}|{hash}".encode()
    seal = hmac.new(key, message, hashlib.sha256).hexdigest() if key else hashlib.sha256(message).hexdigest()
    cursor.execute("UPDATE audit_audithead SET seq = %s, hash = %s, seal = %s WHERE id = 1", [seq, hash, seal])


def verify_command(capsys, *args) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_audit_log", *args)
        raise SystemExit(0)
    out = capsys.readouterr()
    return exit_info.value.code, out.out + out.err


def assert_found_altered(capsys, target) -> None:
    """verify_audit_log fails, naming `target` as the first event that does not hold."""
    code, output = verify_command(capsys)
    assert code == 1
    assert f"event #{target.seq} was altered" in output


def test_an_intact_trail_with_its_checkpoints_verifies(history, tmp_path, capsys):
    audit_checkpoint_write(directory=tmp_path)
    code, output = verify_command(capsys, "--checkpoints", str(tmp_path))
    assert code == 0, output
    assert f"{len(history)} events, 1 checkpoints hold" in output


def test_altering_an_event_and_recomputing_the_chain_without_the_key_is_found(history, capsys):
    target = history[4]
    with behind_the_applications_back() as cursor:
        cursor.execute("UPDATE audit_auditevent SET comment = %s WHERE id = %s", ["all fine", target.pk])
        rechain(cursor, target.seq, key=None)  # the old, unkeyed SHA-256 chain
    assert_found_altered(capsys, target)


def test_recomputing_with_a_guessed_key_is_found(history, capsys):
    target = history[2]
    with behind_the_applications_back() as cursor:
        cursor.execute("UPDATE audit_auditevent SET actor_role = 'support' WHERE id = %s", [target.pk])
        rechain(cursor, target.seq, key=b"guess")
    assert_found_altered(capsys, target)


def test_deleting_an_event_and_renumbering_the_rest_is_found(history, capsys):
    target = history[3]
    with behind_the_applications_back() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [target.pk])
        for later in history[4:]:  # ascending, so the freed number is always the one taken
            cursor.execute("UPDATE audit_auditevent SET seq = seq - 1 WHERE id = %s", [later.pk])
        rechain(cursor, target.seq, key=None)
    assert_found_altered(capsys, target)


def test_deleting_the_newest_events_and_rewinding_the_head_is_found_by_the_orders(history, capsys):
    # The newest three events go, and the head is set back to the one before: the chain itself is whole.
    kept = history[-4]
    with behind_the_applications_back() as cursor:
        for gone in history[-3:]:
            cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [gone.pk])
        set_head(cursor, kept.seq, kept.hash, key=None)
    code, output = verify_command(capsys)
    assert code == 1
    touched = AccessOrder.objects.get(pk=history[-1].order_id)
    assert f"order {touched.reference} is “{touched.state}” but its newest event" in output


def test_deleting_the_newest_events_is_found_by_a_checkpoint_even_when_the_orders_agree(history, tmp_path, capsys):
    audit_checkpoint_write(directory=tmp_path)
    newest = history[-1]
    order = AccessOrder.objects.get(pk=newest.order_id)
    with behind_the_applications_back() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [newest.pk])
        # The attacker also puts the order back into the state the remaining events describe.
        cursor.execute("UPDATE ordering_accessorder SET state = %s WHERE id = %s", [newest.from_state, order.pk])
        before = history[-2]
        set_head(cursor, before.seq, before.hash, key=None)
    code, output = verify_command(capsys)  # the head's seal shows it without a checkpoint (#21)
    assert code == 1 and f"the chain head (event #{before.seq}) is not sealed with the key" in output
    code, output = verify_command(capsys, "--checkpoints", str(tmp_path))
    assert code == 1
    assert f"event #{newest.seq}, pinned by checkpoint" in output and "is gone" in output


def test_deleting_every_event_and_the_head_is_found(history, tmp_path, capsys):
    audit_checkpoint_write(directory=tmp_path)
    with behind_the_applications_back() as cursor:
        cursor.execute("DELETE FROM ordering_notification")
        cursor.execute("DELETE FROM audit_auditevent")
        cursor.execute("DELETE FROM audit_audithead")
    code, output = verify_command(capsys)
    assert code == 1
    assert "has no creation event" in output
    code, output = verify_command(capsys, "--checkpoints", str(tmp_path))
    assert code == 1 and "is gone" in output


def test_an_insider_with_the_hmac_key_is_still_caught_by_the_checkpoints(history, settings, tmp_path, capsys):
    audit_checkpoint_write(directory=tmp_path)
    target = history[1]
    with behind_the_applications_back() as cursor:
        cursor.execute("UPDATE audit_auditevent SET comment = %s WHERE id = %s", ["rewritten", target.pk])
        rechain(cursor, target.seq, key=settings.AUDIT_HMAC_KEY.encode())
    assert verify_command(capsys)[0] == 0  # the key alone lets the chain be recomputed ...
    code, output = verify_command(capsys, "--checkpoints", str(tmp_path))
    assert code == 1  # ... but not the signed checkpoint of the head
    assert f"event #{history[-1].seq} differs from checkpoint" in output


def test_a_forged_checkpoint_is_refused(history, tmp_path, capsys):
    _, path = audit_checkpoint_write(directory=tmp_path)
    body = json.loads(path.read_text())
    body["seq"], body["hash"] = history[2].seq, history[2].hash
    path.chmod(0o644)
    path.write_text(json.dumps(body))
    code, output = verify_command(capsys, "--checkpoints", str(tmp_path))
    assert code == 1
    assert "is not validly signed" in output


def test_a_checkpoint_is_never_overwritten_and_records_the_head(history, tmp_path):
    checkpoint, path = audit_checkpoint_write(directory=tmp_path)
    head = AuditHead.objects.get()
    assert (checkpoint.seq, checkpoint.hash, checkpoint.events) == (head.seq, head.hash, len(history))
    assert checkpoint.orders == AccessOrder.objects.count()
    assert [c.seq for c in checkpoints_in(tmp_path)] == [head.seq]
    with pytest.raises(FileExistsError):
        import os

        os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)


def test_a_checkpoint_of_an_empty_trail_verifies(db, tmp_path):
    checkpoint, _ = audit_checkpoint_write(directory=tmp_path)
    assert (checkpoint.seq, checkpoint.orders) == (0, 0)
    assert audit_verify(checkpoints=checkpoints_in(tmp_path)) == []


def test_events_sealed_under_another_key_do_not_verify(history, settings):
    settings.AUDIT_HMAC_KEY = "a-different-key"
    problems = audit_verify()
    assert problems and problems[0].seq == 1 and "altered" in problems[0].message


def test_an_order_written_without_its_creation_event_is_found(cast):
    order = AccessOrder.objects.create(
        customer=cast.customer_a,
        created_by=cast.orderer_a,
        external_system=cast.rostering,
        purchase_model=AccessOrder.PurchaseModel.SINGLE,
        environment=AccessOrder.Environment.PRODUCTION,
        reason=AccessOrder.Reason.NEW,
        integration_type=AccessOrder.IntegrationType.STANDARD,
    )
    problems = audit_verify()
    assert [p.message for p in problems] == [f"order {order.reference} has no creation event"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # TRUNCATE needs a transaction with no deferred checks pending
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET comment = 'x'",
        "DELETE FROM audit_auditevent",
        "TRUNCATE audit_auditevent CASCADE",
    ],
)
def test_postgresql_refuses_to_change_or_remove_audit_events(history, statement):
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert AuditEvent.objects.count() == len(history)


def test_the_daily_task_writes_a_checkpoint_where_the_settings_say(history, settings, tmp_path):
    from audit.tasks import write_audit_checkpoint

    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    written = write_audit_checkpoint.delay().get()
    assert written.startswith(str(tmp_path / "checkpoints"))
    assert [c.seq for c in checkpoints_in(tmp_path / "checkpoints")] == [history[-1].seq]
    assert "audit-checkpoint" in settings.CELERY_BEAT_SCHEDULE


def test_the_finding_deleting_events_that_change_no_state_and_rewinding_the_head_is_found_without_a_checkpoint(
    cast, order_in, tmp_path, capsys
):
    """#21's finding, as it was done: an emergency-closure request and 7.5 consulting hours are recorded after
    the last checkpoint; their events are deleted, the head is set back to the event before (its seq and hash are
    readable in the database) and the order's request fields are cleared. Before the head was sealed,
    `verify_audit_log` said "intact", with or without that checkpoint."""
    from decimal import Decimal

    from django.utils import timezone

    from billing.services import consulting_record
    from ordering.services import order_request_emergency_closure

    order = order_in("active")
    audit_checkpoint_write(directory=tmp_path)
    kept = AuditEvent.objects.order_by("-seq").first()
    order_request_emergency_closure(order=order, actor=cast.orderer_a, reason="Brud hos leverandøren")
    consulting_record(
        order=order, actor=cast.am_a, on=timezone.localdate(), hours=Decimal("7.5"), description="Sparring"
    )
    gone = list(AuditEvent.objects.filter(seq__gt=kept.seq).values_list("pk", flat=True))
    assert len(gone) == 2
    with behind_the_applications_back() as cursor:
        for pk in gone:
            cursor.execute("DELETE FROM ordering_notification WHERE event_id = %s", [pk])
            cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [pk])
        cursor.execute(
            "UPDATE ordering_accessorder SET emergency_requested_at = NULL, emergency_request_reason = '' WHERE id = %s",
            [order.pk],
        )
        cursor.execute("UPDATE audit_audithead SET seq = %s, hash = %s WHERE id = 1", [kept.seq, kept.hash])
    for args in [(), ("--checkpoints", str(tmp_path))]:
        code, output = verify_command(capsys, *args)
        assert code == 1, args
        assert f"the chain head (event #{kept.seq}) is not sealed with the key" in output
