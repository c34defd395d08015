"""Checkpoints are frequent and cheap (#21): every AUDIT_CHECKPOINT_EVERY_MINUTES (beat), after every
AUDIT_CHECKPOINT_EVERY_EVENTS-th event, right after each acceptance and emergency closure; and verifying with
`--checkpoints` fails without a recent one."""

import datetime

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from audit.verification import Checkpoint, anchor_problems, audit_checkpoint_write, checkpoints_in
from ordering import services

NOW = datetime.datetime(2026, 12, 6, 12, 0, tzinfo=datetime.UTC)


def written(settings) -> list[int]:
    return [checkpoint.seq for checkpoint in checkpoints_in(settings.AUDIT_CHECKPOINT_DIR)]


@pytest.fixture
def every_third(settings):
    settings.AUDIT_CHECKPOINT_EVERY_EVENTS = 3
    settings.AUDIT_CHECKPOINT_DIR.mkdir(parents=True, exist_ok=True)


def test_every_third_event_asks_for_a_checkpoint_and_the_second_does_not(
    cast, every_third, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = services.order_create(actor=cast.orderer_a, customer=cast.customer_a, facts=_facts(cast))
    first = AuditEvent.objects.order_by("-seq").first().seq
    seqs = [first]
    while seqs[-1] % 3 != 0:  # edit the draft until an event's number is a multiple of three
        with django_capture_on_commit_callbacks(execute=True):
            services.order_update_draft(order=order, actor=cast.orderer_a, facts=_facts(cast, note=f"n{len(seqs)}"))
        seqs.append(AuditEvent.objects.order_by("-seq").first().seq)
    assert [seq for seq in seqs if seq % 3 == 0] == written(settings)
    assert all(seq % 3 for seq in seqs[:-1])  # the events before wrote none


def _facts(cast, **overrides):
    from tests.conftest import facts

    return facts(cast, **overrides)


@pytest.mark.parametrize("state", ["provisioning", "emergency_closed"])
def test_an_acceptance_and_an_emergency_closure_are_pinned_at_once(
    cast, order_in, settings, state, django_capture_on_commit_callbacks
):
    settings.AUDIT_CHECKPOINT_EVERY_EVENTS = 10_000
    with django_capture_on_commit_callbacks(execute=True):
        order = order_in(state)
    weighty = AuditEvent.objects.filter(order=order, kind="accept" if state == "provisioning" else "emergency_close")
    assert weighty.get().seq in written(settings)


def test_the_beat_writes_one_every_configured_interval(settings):
    assert settings.CELERY_BEAT_SCHEDULE["audit-checkpoint"]["schedule"] == datetime.timedelta(
        minutes=settings.AUDIT_CHECKPOINT_EVERY_MINUTES
    )


# --- verify_audit_log --checkpoints: an anchor or a failure ------------------------------------------


def checkpoint(seq: int, at: datetime.datetime) -> Checkpoint:
    return Checkpoint(seq=seq, hash="0" * 64, at=at.isoformat(), orders=0, events=seq, signature="")


def test_no_checkpoint_at_all_is_a_problem():
    problems = anchor_problems([], head_seq=7, now=NOW)
    assert [p.message for p in problems] == [
        "no signed checkpoint was found: nothing outside the database pins the trail"
    ]


def test_the_newest_checkpoint_may_be_as_old_as_the_interval_plus_the_grace_and_not_a_second_older(settings):
    settings.AUDIT_CHECKPOINT_EVERY_MINUTES, settings.AUDIT_CHECKPOINT_GRACE_MINUTES = 15, 15
    limit = NOW - datetime.timedelta(minutes=30)
    assert anchor_problems([checkpoint(7, limit)], head_seq=7, now=NOW) == []
    late = anchor_problems([checkpoint(7, limit - datetime.timedelta(seconds=1))], head_seq=7, now=NOW)
    assert len(late) == 1 and "more than 30 minutes ago" in late[0].message


def test_the_trail_may_run_the_event_count_past_the_newest_checkpoint_and_not_one_more(settings):
    settings.AUDIT_CHECKPOINT_EVERY_EVENTS = 50
    assert anchor_problems([checkpoint(100, NOW)], head_seq=150, now=NOW) == []
    beyond = anchor_problems([checkpoint(100, NOW)], head_seq=151, now=NOW)
    assert len(beyond) == 1 and "51 events past the newest checkpoint (#100); at most 50 may be" in beyond[0].message


def test_the_newest_is_the_one_with_the_highest_number_whatever_the_file_order(settings):
    settings.AUDIT_CHECKPOINT_EVERY_EVENTS = 50
    old, new = checkpoint(10, NOW - datetime.timedelta(days=1)), checkpoint(100, NOW)
    assert anchor_problems([new, old], head_seq=150, now=NOW) == []


def test_verifying_against_an_empty_directory_fails(cast, order_in, tmp_path, capsys):
    """#21's finding: `--checkpoints DIR` passed on an empty directory ("0 checkpoints hold", exit 0)."""
    order_in("submitted")
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_audit_log", "--checkpoints", str(tmp_path))
    assert exit_info.value.code == 1
    assert "no signed checkpoint was found" in capsys.readouterr().err


def test_verifying_against_a_fresh_checkpoint_passes(cast, order_in, tmp_path, capsys):
    order_in("submitted")
    audit_checkpoint_write(directory=tmp_path)
    call_command("verify_audit_log", "--checkpoints", str(tmp_path))
    assert "1 checkpoints hold" in capsys.readouterr().out


@pytest.mark.parametrize("room", [0, 1, 100])
def test_a_full_disk_leaves_no_cut_off_checkpoint_and_the_next_is_whole(cast, order_in, tmp_path, monkeypatch, room):
    """Issue 23, no partial files: a checkpoint cut off by a full disk would fail every later verification."""
    import errno
    import os

    from tests.disk_full import DiskFull

    order_in("submitted")
    monkeypatch.setattr(os, "write", DiskFull(tmp_path, room=room))
    with pytest.raises(OSError) as full:
        audit_checkpoint_write(directory=tmp_path)
    assert full.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    checkpoint, path = audit_checkpoint_write(directory=tmp_path)
    assert list(tmp_path.iterdir()) == [path]
    (read,) = checkpoints_in(tmp_path)
    assert (read.seq, read.hash, read.signature) == (checkpoint.seq, checkpoint.hash, checkpoint.signature)
