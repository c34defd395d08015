"""The outbox: work a write causes is stored with the write, delivered once, retried, given up visibly.

Fast: SQLite (or PostgreSQL when DATABASE_URL says so) and eager Celery. The real worker, broker and
faults are in test_worker_faults.py.
"""

import dataclasses
import datetime
import threading
import time
from smtplib import SMTPServerDisconnected

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, connections, transaction
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from audit.models import AuditEvent
from core import outbox
from core.errors import NotPermitted
from core.models import OutboxMessage
from core.outbox import (
    handler_named,
    outbox_backlog,
    outbox_backoff,
    outbox_deliver,
    outbox_enqueue,
    outbox_handler,
    outbox_holds,
    outbox_send_again,
    outbox_sweep,
)
from core.tasks import deliver_outbox_message
from ordering import services
from ordering.models import Addendum, Notification

from ..conftest import accept_rendered

# A handler for these tests: records each run, fails while `failing` says so.
calls: list[dict] = []
failing = {"times": 0, "error": OSError("storage unavailable")}
given_up: list[int] = []


@outbox_handler("tests.record", label="Test work", on_dead=lambda message: given_up.append(message.pk))
def record(**payload) -> None:
    calls.append(payload)
    if failing["times"]:
        failing["times"] -= 1
        raise failing["error"]


# Stands for the sweep and a second task arriving while a delivery is under way.
race_seen: list = []


@outbox_handler("tests.racing", label="Racing")
def racing(message_id: int) -> None:
    race_seen.append(outbox_sweep())
    race_seen.append(outbox_deliver(message_id))
    calls.append({})


@pytest.fixture(autouse=True)
def clean_handler_state():
    race_seen.clear()
    calls.clear()
    given_up.clear()
    failing["times"] = 0
    yield


class Clock:
    """timezone.now() under the test's control, starting at the real now."""

    def __init__(self) -> None:
        self.now = timezone.now()

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += datetime.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock)
    return clock


def enqueue(**kwargs) -> OutboxMessage:
    with transaction.atomic():
        return outbox_enqueue("tests.record", payload={"n": 1}, **kwargs)


def no_dispatch(monkeypatch):
    """The broker takes nothing: dispatch fails as it does when Redis is unreachable."""

    def unreachable(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(deliver_outbox_message, "apply_async", unreachable)


# --- Written with the write --------------------------------------------------------------------


def test_a_transition_stores_its_emails_in_its_own_transaction(cast, order_in, django_capture_on_commit_callbacks):
    order = order_in("draft")
    with django_capture_on_commit_callbacks(execute=True):
        services.order_submit(order=order, actor=cast.orderer_a)
    event = AuditEvent.objects.order_by("-seq").first()
    message = OutboxMessage.objects.get(event_id=event.pk)
    assert (message.handler, message.order_id, message.payload) == (
        "ordering.notify_event",
        order.pk,
        {"event_id": event.pk},
    )
    assert message.status == "delivered" and message.attempts == 1 and message.delivered_at


def test_a_rolled_back_write_leaves_no_message_and_sends_nothing(cast, order_in):
    order = order_in("draft")
    before = OutboxMessage.objects.count()
    mail.outbox.clear()

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        services.order_submit(order=order, actor=cast.orderer_a)
        assert OutboxMessage.objects.count() == before + 1  # written inside the transaction
        raise Boom

    assert OutboxMessage.objects.count() == before
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_work_can_only_be_stored_inside_the_write_transaction():
    with pytest.raises(RuntimeError):
        outbox_enqueue("tests.record", payload={})


def test_only_registered_handlers_can_be_stored(db):
    with pytest.raises(LookupError), transaction.atomic():
        outbox_enqueue("os.system", payload={"command": "true"})


def test_work_under_one_key_is_stored_once_while_it_waits(db, monkeypatch):
    no_dispatch(monkeypatch)
    first = enqueue(key="7")
    second = enqueue(key="7")
    assert first.pk == second.pk
    assert OutboxMessage.objects.filter(key="tests.record:7").count() == 1


# --- Delivered once ----------------------------------------------------------------------------


def test_a_message_runs_once_however_often_it_is_delivered(db, monkeypatch):
    no_dispatch(monkeypatch)
    message = enqueue()
    assert outbox_deliver(message.pk) is True
    assert outbox_deliver(message.pk) is False
    assert outbox_sweep() == 0
    assert calls == [{"n": 1}]


def test_the_sweep_cannot_take_a_message_while_its_task_runs_it(db):
    message = enqueue()
    OutboxMessage.objects.filter(pk=message.pk).update(handler="tests.racing", payload={"message_id": message.pk})
    assert outbox_deliver(message.pk) is True
    assert race_seen == [0, False] and len(calls) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent connections")
def test_racing_deliveries_of_one_event_send_each_email_once(cast, order_in, monkeypatch):
    order = order_in("active")
    no_dispatch(monkeypatch)
    services.order_emergency_close(order=order, actor=cast.support, reason="Brud")
    message = OutboxMessage.objects.get(handler="ordering.notify_event", status="pending")
    mail.outbox.clear()
    barrier = threading.Barrier(4)
    results = []

    def deliver():
        try:
            barrier.wait(timeout=10)
            results.append(outbox_deliver(message.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [False, False, False, True]
    assert sorted(a for m in mail.outbox for a in m.to) == [
        "am_a@example.test",
        "orderer_a@example.test",
        "signatory_a@example.test",
    ]
    assert Notification.objects.filter(event_id=message.event_id).count() == 3


def test_a_delivery_whose_worker_died_is_taken_up_when_its_claim_runs_out(db, clock):
    message = enqueue()
    # A worker claimed the message and was killed before it finished.
    OutboxMessage.objects.filter(pk=message.pk).update(
        attempts=1, claim_token="dead-worker", claimed_until=clock.now + datetime.timedelta(seconds=150)
    )
    assert outbox_deliver(message.pk) is False  # still claimed
    clock.advance(seconds=151)
    assert outbox_sweep() == 1  # handed to the (eager) task again, which delivers it
    message.refresh_from_db()
    assert (message.status, message.attempts, calls) == ("delivered", 2, [{"n": 1}])


def test_the_same_message_given_again_by_the_broker_takes_over_at_once(db):
    message = enqueue()
    OutboxMessage.objects.filter(pk=message.pk).update(
        attempts=1, claim_token="task-1", claimed_until=timezone.now() + datetime.timedelta(seconds=150)
    )
    assert outbox_deliver(message.pk, token="task-2") is False
    assert outbox_deliver(message.pk, token="task-1") is True  # reject_on_worker_lost gave it back


# --- Retried with back-off, then given up ------------------------------------------------------


def test_backoff_doubles_from_the_base_up_to_the_cap(settings):
    settings.OUTBOX_BACKOFF_SECONDS, settings.OUTBOX_BACKOFF_MAX_SECONDS = 60, 3600
    assert [outbox_backoff(n).total_seconds() for n in range(1, 9)] == [60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_a_failed_message_is_not_tried_again_a_moment_before_its_backoff_ends(db, settings, clock):
    settings.OUTBOX_BACKOFF_SECONDS = 60
    failing["times"] = 1
    message = enqueue()
    assert outbox_deliver(message.pk) is False
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.next_attempt_at == clock.now + datetime.timedelta(seconds=60)
    assert message.last_error == "OSError: storage unavailable"

    clock.advance(seconds=59, microseconds=999999)
    assert outbox_deliver(message.pk) is False
    assert len(calls) == 1
    clock.advance(microseconds=1)
    assert outbox_deliver(message.pk) is True
    assert len(calls) == 2


def test_a_message_is_given_up_after_exactly_the_allowed_attempts(db, settings, clock):
    settings.OUTBOX_MAX_ATTEMPTS = 4
    failing["times"] = 99
    message = enqueue()
    for attempt in range(1, 4):
        outbox_deliver(message.pk)
        message.refresh_from_db()
        assert (message.status, message.attempts) == ("pending", attempt)  # N-1 failures: still tried again
        clock.advance(hours=2)
    assert given_up == []
    outbox_deliver(message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts, given_up) == ("dead", 4, [message.pk])
    clock.advance(days=1)
    assert outbox_sweep() == 0 and outbox_deliver(message.pk) is False
    assert len(calls) == 4


def test_a_worker_dying_on_the_last_attempt_still_ends_in_given_up(db, settings, clock):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    message = enqueue()
    OutboxMessage.objects.filter(pk=message.pk).update(attempts=2, claim_token="x", claimed_until=clock.now)
    clock.advance(seconds=1)
    assert outbox_deliver(message.pk) is False
    message.refresh_from_db()
    assert message.status == "dead" and calls == [] and given_up == [message.pk]


def test_a_worker_that_does_not_know_the_handler_leaves_the_message_for_one_that_does(db, clock):
    message = enqueue()
    OutboxMessage.objects.filter(pk=message.pk).update(handler="tests.from_a_newer_release")
    assert outbox_deliver(message.pk) is False
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.last_error.startswith("LookupError: no outbox handler named 'tests.from_a_newer_release'")
    OutboxMessage.objects.filter(pk=message.pk).update(handler="tests.record")  # the new release is deployed
    clock.advance(minutes=1)
    assert outbox_deliver(message.pk) is True


def test_an_smtp_outage_delays_the_emails_and_loses_none(
    cast, order_in, monkeypatch, clock, django_capture_on_commit_callbacks
):
    from django.core.mail.backends import locmem

    with django_capture_on_commit_callbacks(execute=True):
        order = order_in("submitted")
    mail.outbox.clear()

    def smtp_down(self, messages):
        raise SMTPServerDisconnected("Connection unexpectedly closed")

    with monkeypatch.context() as smtp, django_capture_on_commit_callbacks(execute=True):
        smtp.setattr(locmem.EmailBackend, "send_messages", smtp_down)
        services.order_reject(order=order, actor=cast.am_a, comment="Nej")
    message = OutboxMessage.objects.get(handler="ordering.notify_event", order_id=order.pk, status="pending")
    assert "SMTPServerDisconnected" in message.last_error and mail.outbox == []

    clock.advance(minutes=1)
    assert outbox_sweep() == 1
    assert [m.to for m in mail.outbox] == [["orderer_a@example.test"]]
    message.refresh_from_db()
    assert message.status == "delivered"


def test_an_unreachable_broker_delays_the_work_of_a_transition_and_loses_none(
    cast, order_in, monkeypatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = order_in("submitted")
    mail.outbox.clear()
    with monkeypatch.context() as broker, django_capture_on_commit_callbacks(execute=True):
        no_dispatch(broker)
        services.order_issue_addendum(order=order, actor=cast.am_a)
    order.refresh_from_db()
    assert order.state == "awaiting_signature" and mail.outbox == []
    assert order.addenda.get().render_status == "pending"
    waiting = OutboxMessage.objects.filter(order_id=order.pk, status="pending")
    assert {m.handler for m in waiting} == {"ordering.notify_event", "ordering.render_addendum"}
    assert all(m.dispatched_at is None for m in waiting)

    assert outbox_sweep() == 2  # the broker is back
    assert [m.to for m in mail.outbox] == [["signatory_a@example.test"]]
    assert order.addenda.get().render_status == "ready"
    assert outbox_sweep() == 0


def test_a_lost_dispatch_is_logged_naming_the_order_event_and_message(
    cast, order_in, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    order = order_in("draft")
    no_dispatch(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_submit(order=order, actor=cast.orderer_a)
    message = OutboxMessage.objects.get(order_id=order.pk, status="pending")
    record = next(r for r in caplog.records if r.name == "core.outbox")
    assert (record.outbox, record.order, record.event, record.handler) == (
        message.pk,
        order.pk,
        message.event_id,
        "ordering.notify_event",
    )


# --- Addendum documents ------------------------------------------------------------------------


def broken_storage(monkeypatch):
    import os

    from django.core.files.storage import default_storage

    from ..disk_full import DiskFull

    monkeypatch.setattr(os, "write", DiskFull(default_storage.location))


def test_a_render_storage_keeps_failing_ends_failed_with_generate_again(
    cast, order_in, monkeypatch, clock, client, django_capture_on_commit_callbacks
):
    order = order_in("submitted")
    with monkeypatch.context() as storage:
        broken_storage(storage)
        with django_capture_on_commit_callbacks(execute=True):
            services.order_issue_addendum(order=order, actor=cast.am_a)
        for _ in range(services.RENDER_ATTEMPTS - 1):
            addendum = Addendum.objects.get(order=order)
            assert addendum.render_status == "pending"
            clock.advance(minutes=10)
            outbox_sweep()
    addendum = Addendum.objects.get(order=order)
    assert addendum.render_status == "failed"
    assert "No space left on device" in addendum.render_error
    message = OutboxMessage.objects.get(handler="ordering.render_addendum")
    assert (message.status, message.attempts) == ("dead", services.RENDER_ATTEMPTS)

    client.force_login(cast.am_a)
    page = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    assert "Dokumentet kunne ikke dannes" in page and "Dan igen" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("ordering:addendum_render", args=[order.pk, addendum.version]))
    assert Addendum.objects.get(order=order).render_status == "ready"
    message.refresh_from_db()
    assert message.status == "delivered"  # the same message, asked for again, no longer on the list


def test_a_render_pending_past_the_bound_shows_as_stalled_with_generate_again(
    cast, order_in, settings, django_capture_on_commit_callbacks
):
    from django.test import Client

    order = order_in("submitted")
    services.order_issue_addendum(order=order, actor=cast.am_a)  # its render never reaches a worker
    addendum = Addendum.objects.get(order=order)
    url = reverse("ordering:addendum_status", args=[order.pk, addendum.version])
    manager, signatory = Client(), Client()
    manager.force_login(cast.am_a)
    signatory.force_login(cast.signatory_a)
    bound = datetime.timedelta(seconds=settings.ADDENDUM_RENDER_STALLED_SECONDS)  # a render's limit and a sweep
    assert "Dokumentet dannes" in manager.get(url).content.decode()
    Addendum.objects.filter(pk=addendum.pk).update(issued_at=timezone.now() - bound + datetime.timedelta(seconds=5))
    assert "Dokumentet dannes" in manager.get(url).content.decode()

    Addendum.objects.filter(pk=addendum.pk).update(issued_at=timezone.now() - bound - datetime.timedelta(seconds=1))
    page = manager.get(url).content.decode()
    assert "Dokumentet dannes" not in page and "Dan igen" in page
    assert "Dan igen" not in signatory.get(url).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        manager.post(reverse("ordering:addendum_render", args=[order.pk, addendum.version]))
    assert Addendum.objects.get(pk=addendum.pk).render_status == "ready"
    assert OutboxMessage.objects.filter(handler="ordering.render_addendum").count() == 1


def test_documents_left_without_work_under_way_are_queued_again(
    cast, order_in, settings, django_capture_on_commit_callbacks
):
    order = order_in("awaiting_signature")
    addendum = Addendum.objects.get(order=order)
    # As left behind before the outbox: pending, and no message for it.
    OutboxMessage.objects.filter(handler="ordering.render_addendum").delete()
    Addendum.objects.filter(pk=addendum.pk).update(
        render_status="pending",
        pdf="",
        pdf_sha256="",
        issued_at=timezone.now() - datetime.timedelta(seconds=settings.ADDENDUM_RENDER_STALLED_SECONDS + 1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.addendum_documents_recover() == 1
    assert Addendum.objects.get(pk=addendum.pk).render_status == "ready"
    assert services.addendum_documents_recover() == 0


# --- Support: the given-up list and "send again" -------------------------------------------------


def dead_message(settings) -> OutboxMessage:
    settings.OUTBOX_MAX_ATTEMPTS = 1
    failing["times"] = 1
    message = enqueue()
    outbox_deliver(message.pk)
    message.refresh_from_db()
    assert message.status == "dead"
    return message


def test_support_sees_given_up_messages_and_sends_one_again(cast, client, settings, django_capture_on_commit_callbacks):
    message = dead_message(settings)
    client.force_login(cast.support)
    assert "Ikke leverede beskeder" in client.get(reverse("home")).content.decode()
    page = client.get(reverse("core:outbox_dead_letters")).content.decode()
    assert "Test work" in page and "OSError: storage unavailable" in page and "Send igen" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("core:outbox_send_again", args=[message.pk]))
    assert response.status_code == 302
    message.refresh_from_db()
    assert (message.status, message.attempts, message.sent_again_by) == ("delivered", 1, cast.support)
    assert len(calls) == 2
    again = AuditEvent.objects.get(kind="outbox_sent_again")
    assert (again.actor, again.actor_role, again.subject_id) == (cast.support, "support", str(message.pk))
    assert "Send igen" not in client.get(reverse("core:outbox_dead_letters")).content.decode()


@pytest.mark.parametrize("who", ["am_a", "orderer_a", "signatory_a", "outsider"])
def test_only_support_sees_the_list_or_sends_again(cast, client, settings, who):
    message = dead_message(settings)
    client.force_login(getattr(cast, who))
    assert client.get(reverse("core:outbox_dead_letters")).status_code == 403
    assert client.post(reverse("core:outbox_send_again", args=[message.pk])).status_code == 403
    message.refresh_from_db()
    assert message.status == "dead" and len(calls) == 1
    assert not AuditEvent.objects.filter(kind="outbox_sent_again").exists()
    # The service refuses as every service does (a Refusal the API and pages know), never Django's PermissionDenied.
    with pytest.raises(NotPermitted):
        outbox_send_again(message=message, actor=getattr(cast, who))
    message.refresh_from_db()
    assert message.status == "dead"


def test_sending_again_needs_a_post(cast, client, settings):
    message = dead_message(settings)
    client.force_login(cast.support)
    assert client.get(reverse("core:outbox_send_again", args=[message.pk])).status_code == 405


def test_a_message_not_given_up_is_not_sent_again(cast, client):
    message = enqueue()
    client.force_login(cast.support)
    response = client.post(reverse("core:outbox_send_again", args=[message.pk]), follow=True)
    assert "ikke længere opgivet" in response.content.decode()
    message.refresh_from_db()
    assert message.status == "pending" and message.sent_again_by is None


# --- For operators: check_health and the backlog ------------------------------------------------


def run_check_health(capsys) -> tuple[int, str]:
    try:
        call_command("check_health")
    except SystemExit as exit_info:
        return exit_info.code, capsys.readouterr().err
    return 0, capsys.readouterr().out


def test_check_health_is_clean_when_all_work_is_done(cast, order_in, capsys, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = order_in("awaiting_signature")
    with django_capture_on_commit_callbacks(execute=True):
        accept_rendered(order=order, actor=cast.signatory_a)
    assert order.addenda.get().final_sha256
    code, output = run_check_health(capsys)
    assert code == 0, output
    assert "up to date" in output


def test_check_health_names_each_given_up_and_overdue_message(cast, settings, capsys):
    dead = dead_message(settings)
    overdue = enqueue()
    OutboxMessage.objects.filter(pk=overdue.pk).update(
        created_at=timezone.now() - datetime.timedelta(seconds=settings.OUTBOX_OVERDUE_SECONDS + 1)
    )
    fresh = enqueue()
    code, output = run_check_health(capsys)
    assert code == 1
    assert f"outbox #{dead.pk} " in output and "given up after 1 attempts" in output
    assert f"outbox #{overdue.pk} " in output and "not delivered since" in output
    assert f"outbox #{fresh.pk} " not in output
    assert outbox_backlog() == 1


def test_check_health_names_stuck_failed_and_unstamped_addenda(cast, order_in, settings, capsys):
    late = timezone.now() - datetime.timedelta(seconds=settings.ADDENDUM_RENDER_STALLED_SECONDS + 1)
    stuck = order_in("awaiting_signature").addenda.get()
    Addendum.objects.filter(pk=stuck.pk).update(render_status="pending", issued_at=late)
    failed = order_in("awaiting_signature", system=cast.canteen, codes=("engangsydelser",)).addenda.get()
    Addendum.objects.filter(pk=failed.pk).update(render_status="failed", render_error="OSError: disk")
    accepted_order = order_in("provisioning", environment="test")
    unstamped = accepted_order.addenda.get()
    Addendum.objects.filter(pk=unstamped.pk).update(final_sha256="", final_pdf="", decided_at=late)

    code, output = run_check_health(capsys)
    assert code == 1
    assert f"addendum {stuck.number} (order {stuck.order_id}): still being generated" in output
    assert f"addendum {failed.number} (order {failed.order_id}): rendering failed: OSError: disk" in output
    assert f"addendum {unstamped.number} (order {unstamped.order_id}): accepted" in output
    assert "no stamped copy" in output


# --- Boundaries: the key, the sweep's batch and window, handler names --------------------------


def handed_over(monkeypatch) -> list[int]:
    """The broker takes every message and runs none: the ids it was handed, in order."""
    ids: list[int] = []
    monkeypatch.setattr(deliver_outbox_message, "apply_async", lambda args, **options: ids.append(*args))
    return ids


def test_a_subject_is_kept_to_its_first_100_characters(db, monkeypatch):
    no_dispatch(monkeypatch)
    exactly = enqueue(subject="x" * 100)
    longer = enqueue(subject="y" * 101)
    exactly.refresh_from_db()
    longer.refresh_from_db()
    assert (exactly.subject, longer.subject) == ("x" * 100, "y" * 100)


def test_work_under_a_key_that_was_given_up_is_asked_for_again_with_fresh_attempts(db, monkeypatch, clock):
    no_dispatch(monkeypatch)
    first = enqueue(key="7")
    OutboxMessage.objects.filter(pk=first.pk).update(status="dead", attempts=3, last_error="OSError: disk")
    assert outbox_holds("tests.record", key="7") is True
    clock.advance(hours=1)

    again = enqueue(key="7")

    again.refresh_from_db()
    assert again.pk == first.pk
    assert (again.status, again.attempts, again.next_attempt_at) == ("pending", 0, clock.now)


def test_a_key_holds_while_its_work_waits_or_was_given_up_and_not_once_delivered(db, monkeypatch):
    no_dispatch(monkeypatch)
    message = enqueue(key="7")
    assert (outbox_holds("tests.record", key="7"), outbox_holds("tests.record", key="8")) == (True, False)
    assert outbox_holds("tests.other", key="7") is False  # keys are per handler
    assert outbox_deliver(message.pk) is True
    assert outbox_holds("tests.record", key="7") is False


def test_work_a_parallel_transaction_queued_under_the_same_key_first_is_asked_again_not_queued_twice(db, monkeypatch):
    no_dispatch(monkeypatch)
    ask_again = outbox._ask_again
    theirs: list[OutboxMessage] = []

    def theirs_commits_in_between(key, now, fields):
        if not theirs:  # our look finds nothing; the other transaction's row commits right after it
            theirs.append(
                OutboxMessage.objects.create(
                    handler="tests.record", key=key, payload={"n": "theirs"}, next_attempt_at=now, attempts=2
                )
            )
            return None
        return ask_again(key, now, fields)

    monkeypatch.setattr(outbox, "_ask_again", theirs_commits_in_between)

    ours = enqueue(key="7")

    ours.refresh_from_db()
    assert ours.pk == theirs[0].pk
    assert (ours.payload, ours.attempts, ours.status) == ({"n": 1}, 0, "pending")
    assert OutboxMessage.objects.filter(key="tests.record:7").count() == 1


def test_a_key_conflict_that_cannot_be_asked_again_is_not_swallowed(db, monkeypatch):
    no_dispatch(monkeypatch)

    def theirs_commits_and_is_gone_again(key, now, fields):
        OutboxMessage.objects.get_or_create(handler="tests.record", key=key, defaults={"next_attempt_at": now})
        return None

    monkeypatch.setattr(outbox, "_ask_again", theirs_commits_and_is_gone_again)

    with pytest.raises(IntegrityError):
        enqueue(key="7")


def test_the_sweep_hands_a_message_over_again_only_after_the_redispatch_window(db, settings, clock, monkeypatch):
    settings.OUTBOX_REDISPATCH_SECONDS = 300
    ids = handed_over(monkeypatch)
    message = enqueue()  # the test's transaction never commits: only the sweep hands it over
    assert outbox_sweep() == 1

    clock.advance(seconds=300)
    assert outbox_sweep() == 0  # handed over 300 s ago: the task may still be on its way
    clock.advance(microseconds=1)
    assert outbox_sweep() == 1
    assert ids == [message.pk, message.pk]


def test_a_message_handed_over_and_never_taken_is_handed_over_again_after_20_s(db, clock, monkeypatch):
    """The web process died between marking the message handed over and publishing it (issue #23: 336 s)."""
    ids = handed_over(monkeypatch)
    message = enqueue()  # never committed, so never handed over by on_commit
    OutboxMessage.objects.filter(pk=message.pk).update(dispatched_at=clock.now)  # marked, then the crash

    clock.advance(seconds=20)
    assert outbox_sweep() == 0  # exactly the window: the task may still be on its way
    clock.advance(microseconds=1)
    assert outbox_sweep() == 1
    assert ids == [message.pk]


def test_a_message_waiting_in_a_long_queue_is_handed_over_again_with_doubling_pauses(db, clock, monkeypatch):
    """Workers busy or down: each waiting message gains a copy in the queue at 20 s, then each time its wait
    since the last copy equals its wait before it (8 in an hour), not one copy per sweep (120 at 30 s)."""
    ids = handed_over(monkeypatch)
    message = enqueue()
    due = message.next_attempt_at
    OutboxMessage.objects.filter(pk=message.pk).update(dispatched_at=due)
    handed_at = []
    for _second in range(3600):
        clock.advance(seconds=1)
        if outbox_sweep():
            handed_at.append(round((clock.now - due).total_seconds()))
    # 20 s after the first hand-over, then whenever the wait since the last one reaches the wait before it.
    assert handed_at == [21, 42, 84, 168, 336, 672, 1344, 2688]
    assert len(ids) == len(handed_at)


def test_with_the_production_timings_lost_work_is_taken_up_within_90_s(settings):
    """The worst case of each way a message can be left waiting, in the settings as shipped."""
    from config import settings as shipped

    sweep = shipped.CELERY_BEAT_SCHEDULE["outbox-sweep"]["schedule"]
    assert sweep == shipped.OUTBOX_SWEEP_SECONDS == 30
    # Never handed over (the hand-over failed, or the process died before marking it): the next sweep.
    # Marked and not published (died in between): the first sweep after the redispatch window.
    lost_dispatch = shipped.OUTBOX_REDISPATCH_SECONDS + sweep
    # Its worker killed mid-delivery: the last renewal's claim runs out, then the next sweep.
    dead_worker = shipped.OUTBOX_CLAIM_SECONDS + sweep
    assert (lost_dispatch, dead_worker) == (50, 60)
    assert max(lost_dispatch, dead_worker) <= 90 - 20  # 20 s left for the worker to run a render
    # A live delivery renews three times per claim: a renewal delayed by one interval still holds it.
    assert shipped.OUTBOX_CLAIM_SECONDS / 3 * 2 < shipped.OUTBOX_CLAIM_SECONDS
    # The broker's own redelivery of a dead worker's message is the slow path these no longer wait for.
    assert shipped.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > dead_worker


# A live handler slower than its claim: whether its claim was still ahead half-way, and what a sweep and
# another task could take then.
slow_seen: list = []


@outbox_handler("tests.slow", label="Slow")
def slow(message_id: int, seconds: float, take_over: bool) -> None:
    time.sleep(seconds)
    slow_seen.append(OutboxMessage.objects.get(pk=message_id).claimed_until > timezone.now())
    if take_over:
        slow_seen.extend([outbox_sweep(), outbox_deliver(message_id, token="other")])


def enqueue_slow(*, seconds: float, take_over: bool) -> OutboxMessage:
    with transaction.atomic():
        message = outbox_enqueue("tests.slow", payload={})
        message.payload = {"message_id": message.pk, "seconds": seconds, "take_over": take_over}
        message.save(update_fields=["payload"])
    return message


@pytest.mark.django_db(transaction=True)
def test_a_live_delivery_slower_than_its_claim_keeps_it_by_renewing(settings, monkeypatch):
    settings.OUTBOX_CLAIM_SECONDS = 1.5  # renewed every 0.5 s; the handler runs for more than two claims
    slow_seen.clear()
    ids = handed_over(monkeypatch)
    message = enqueue_slow(seconds=3.2, take_over=True)

    assert outbox_deliver(message.pk, token="worker") is True
    # Half-way through the claim was still ahead, and neither the sweep nor another task could take it.
    assert slow_seen == [True, 0, False]
    message.refresh_from_db()
    assert (message.status, message.attempts, message.claimed_until) == ("delivered", 1, None)
    assert ids == [message.pk]  # only the hand-over after commit
    assert not [t for t in threading.enumerate() if t.name.startswith("outbox-claim-")]  # renewing stopped


@pytest.mark.django_db(transaction=True)
def test_without_renewing_a_delivery_slower_than_its_claim_would_lose_it(settings, monkeypatch):
    settings.OUTBOX_CLAIM_SECONDS = 1.5
    slow_seen.clear()
    handed_over(monkeypatch)
    monkeypatch.setattr(outbox, "_renew_claim", lambda *args: None)  # as when its worker has died
    message = enqueue_slow(seconds=2, take_over=False)

    assert outbox_deliver(message.pk, token="worker") is True
    assert slow_seen == [False]  # the claim had run out: the sweep would have handed it over


@pytest.mark.django_db(transaction=True)
def test_a_renewal_that_fails_for_a_moment_is_logged_and_the_next_one_keeps_the_claim(settings, monkeypatch, caplog):
    settings.OUTBOX_CLAIM_SECONDS = 1.5
    slow_seen.clear()
    handed_over(monkeypatch)
    lasts, failures = outbox._claim_lasts, []

    def database_gone_once():
        if threading.current_thread().name.startswith("outbox-claim-") and not failures:
            failures.append(1)
            raise DatabaseError("the database is restarting")
        return lasts()

    monkeypatch.setattr(outbox, "_claim_lasts", database_gone_once)
    message = enqueue_slow(seconds=3.2, take_over=False)

    assert outbox_deliver(message.pk, token="worker") is True
    assert failures == [1] and slow_seen == [True]
    assert f"Renewing the claim on outbox message {message.pk} failed" in caplog.text


def test_one_sweep_hands_over_at_most_500_messages_the_longest_due_first(db, monkeypatch):
    ids = handed_over(monkeypatch)
    now = timezone.now()
    OutboxMessage.objects.bulk_create(
        OutboxMessage(handler="tests.record", payload={"n": n}, next_attempt_at=now - datetime.timedelta(seconds=n))
        for n in range(501, 0, -1)
    )
    newest = OutboxMessage.objects.get(payload__n=1)

    assert outbox_sweep() == 500
    assert newest.pk not in ids
    assert outbox_sweep() == 1
    assert ids[-1] == newest.pk and len(set(ids)) == 501


def test_an_unreachable_broker_hands_over_nothing_and_says_so(db, monkeypatch, caplog):
    no_dispatch(monkeypatch)
    message = enqueue()

    assert outbox.outbox_dispatch(message) is False
    assert outbox_sweep() == 0
    message.refresh_from_db()
    assert message.dispatched_at is None  # so the next sweep tries again at once
    record = next(r for r in caplog.records if r.name == "core.outbox")
    assert record.exc_info is not None and record.exc_info[0] is OperationalError


@pytest.mark.parametrize("write", ["enqueue", "send_again"])
def test_a_hand_over_that_fails_after_commit_does_not_fail_the_committed_write(
    cast, settings, monkeypatch, caplog, django_capture_on_commit_callbacks, write
):
    message = dead_message(settings) if write == "send_again" else None

    def broken(message):
        raise RuntimeError("the hand-over itself broke")

    monkeypatch.setattr(outbox, "outbox_dispatch", broken)
    with django_capture_on_commit_callbacks(execute=True):
        if write == "enqueue":
            message = enqueue()
        else:
            outbox_send_again(message=message, actor=cast.support)

    message.refresh_from_db()
    assert message.status == "pending"
    assert any("the hand-over itself broke" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_sending_again_gives_a_fresh_set_of_attempts_due_now(cast, settings, clock):
    message = dead_message(settings)
    OutboxMessage.objects.filter(pk=message.pk).update(
        attempts=4, claimed_until=clock.now, dispatched_at=clock.now, next_attempt_at=clock.now
    )
    clock.advance(hours=1)

    returned = outbox_send_again(message=message, actor=cast.support)

    message.refresh_from_db()
    assert returned.pk == message.pk and returned.attempts == 0
    assert (message.status, message.attempts, message.next_attempt_at) == ("pending", 0, clock.now)
    assert (message.claimed_until, message.dispatched_at) == (None, None)
    assert (message.sent_again_by, message.sent_again_at) == (cast.support, clock.now)


def test_a_handler_name_is_taken_once_and_registering_the_same_function_again_is_harmless(monkeypatch):
    monkeypatch.setattr(outbox, "_handlers", dict(outbox._handlers))
    current = handler_named("tests.record")

    with pytest.raises(ValueError, match="'tests.record' is already registered"):
        outbox_handler("tests.record", label="Someone else's work")(lambda **payload: None)
    again = outbox_handler("tests.record", label=current.label, on_dead=current.on_dead)(record)

    assert again is record
    assert handler_named("tests.record") == current


def test_a_handler_is_described_by_what_it_was_registered_with(settings):
    settings.OUTBOX_MAX_ATTEMPTS = 10
    handler = handler_named("tests.record")

    assert (handler.name, handler.run, handler.label, handler.attempts_allowed) == (
        "tests.record",
        record,
        "Test work",
        10,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        handler.label = "Changed"


def test_a_worker_dying_on_the_last_attempt_is_recorded_with_the_last_error_or_why(db, settings, clock):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    silent, failed = enqueue(), enqueue()
    OutboxMessage.objects.filter(pk=failed.pk).update(last_error="OSError: storage unavailable")
    OutboxMessage.objects.filter(pk__in=[silent.pk, failed.pk]).update(
        attempts=2, claim_token="x", claimed_until=clock.now
    )
    clock.advance(seconds=1)

    assert outbox_deliver(silent.pk) is False and outbox_deliver(failed.pk) is False

    silent.refresh_from_db()
    failed.refresh_from_db()
    assert (silent.status, silent.last_error) == ("dead", "the worker stopped during the last attempt")
    assert (failed.status, failed.last_error) == ("dead", "OSError: storage unavailable")


@pytest.mark.parametrize(("length", "kept"), [(2000, 2000), (2001, 2000)])
def test_the_error_recorded_is_kept_to_2000_characters(db, clock, length, kept):
    reason = "OSError: "
    failing["times"], failing["error"] = 1, OSError("x" * (length - len(reason)))
    message = enqueue()
    try:
        assert outbox_deliver(message.pk) is False
    finally:
        failing["error"] = OSError("storage unavailable")
    message.refresh_from_db()
    assert message.last_error == (reason + "x" * length)[:kept]


def test_each_failed_attempt_is_logged_with_its_traceback(db, settings, clock, caplog):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    failing["times"] = 2
    message = enqueue()
    outbox_deliver(message.pk)
    clock.advance(hours=1)
    outbox_deliver(message.pk)

    failures = [r for r in caplog.records if r.name == "core.outbox" and "failed" in r.getMessage()]
    assert [r.levelname for r in failures] == ["WARNING", "ERROR"]  # tried again, then given up
    assert all(r.exc_info and r.exc_info[0] is OSError for r in failures)


def test_a_message_whose_handler_this_worker_does_not_know_is_given_up_after_the_attempts(db, settings, clock):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    message = enqueue()
    OutboxMessage.objects.filter(pk=message.pk).update(handler="tests.from_a_newer_release")

    assert outbox_deliver(message.pk) is False

    message.refresh_from_db()
    assert message.status == "dead"
    assert message.last_error.startswith("LookupError: no outbox handler named 'tests.from_a_newer_release'")


def test_check_health_names_a_message_by_its_subject_order_and_event(db, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    failing["times"] = 2
    with transaction.atomic():
        named = outbox_enqueue("tests.record", payload={}, subject="Kvittering", order_id=12, event_id=34)
        bare = outbox_enqueue("tests.record", payload={})
    for message in (named, bare):
        outbox_deliver(message.pk)

    assert outbox.outbox_problems() == [
        f"outbox #{named.pk} (tests.record, Kvittering, order 12, event 34): given up after 1 attempts: "
        "OSError: storage unavailable",
        f"outbox #{bare.pk} (tests.record): given up after 1 attempts: OSError: storage unavailable",
    ]
