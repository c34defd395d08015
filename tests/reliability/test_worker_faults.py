"""Faults with a real worker: killed mid-render, broker unreachable, storage failing. Nothing stuck, nothing lost.

PostgreSQL, Redis and a Celery worker started here as a subprocess (tests/reliability/worker_app.py,
which shortens the outbox's timings and can make the first render slow). The test data is committed
(transactional tests) so the worker sees it; the worker uses this session's test database and a queue
of its own, so parallel runs on one Redis never take each other's tasks.
"""

import os
import time
import uuid

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from audit.models import AuditEvent
from config import celery_app
from core.models import OutboxMessage
from core.outbox import outbox_sweep
from ordering import services
from ordering.models import Addendum
from tests.real_broker import BROKER_URL, BrokerOutage, queue_fixtures

from .workers import Workers, wait_for

QUEUE = f"reliability-{uuid.uuid4().hex[:12]}"  # one per test session
# The worker's own sweep must not take the slow render over before the test kills it: a claim of 6 s.
CLAIM_SECONDS, SWEEP_SECONDS = 6, 1

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (os.environ.get("DATABASE_URL") and BROKER_URL),
        reason="needs PostgreSQL (DATABASE_URL) and a Redis broker (CELERY_BROKER_URL) for a real worker",
    ),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the worker shares the test database: PostgreSQL"),
]


@pytest.fixture
def workers(transactional_db, tmp_path):
    started = Workers(
        tmp_path, broker_url=BROKER_URL, queue=QUEUE, claim_seconds=CLAIM_SECONDS, sweep_seconds=SWEEP_SECONDS
    )
    yield started
    started.stop_all()


through_the_broker, empty_queue_afterwards = queue_fixtures(QUEUE)


def addendum_of(order) -> Addendum:
    return Addendum.objects.select_related("order").filter(order=order).order_by("-version").first()


def accept(cast, order, addendum: Addendum):
    return services.order_accept(
        order=order,
        actor=cast.signatory_a,
        document_sha256=addendum.pdf_sha256,
        signer_name="Tove Tegner",
        signer_title="HR-chef",
        authorised=True,
    )


def assert_everything_checks_out(capsys) -> None:
    for command in ("verify_audit_log", "verify_addenda", "check_health"):
        try:
            call_command(command)
        except SystemExit as exit_info:
            pytest.fail(f"{command} exited {exit_info.code}: {capsys.readouterr().err}")


# --- (a) A worker killed mid-render ------------------------------------------------------------


def test_a_worker_killed_mid_render_leaves_no_addendum_stuck(cast, order_in, workers, through_the_broker, capsys):
    order = order_in("submitted")
    through_the_broker()
    marker = workers.tmp_path / "render-started"
    first = workers.start(RELIABILITY_SLOW_RENDER_MARKER=str(marker))

    order = services.order_issue_addendum(order=order, actor=cast.am_a)
    wait_for(marker.exists, seconds=30, workers=workers, what="the first render starts")
    wait_for(
        lambda: OutboxMessage.objects.filter(handler="ordering.notify_event", order_id=order.pk, status="delivered"),
        seconds=15,
        workers=workers,
        what="the signatory's e-mail is sent",
    )
    workers.kill(first)
    killed_at = time.monotonic()
    assert addendum_of(order).render_status == "pending"

    workers.start(RELIABILITY_SLOW_RENDER_MARKER=str(marker))  # as systemd would; renders normally now
    # Bound: the dead worker's claim runs out, the next sweep hands the render over, a render takes seconds.
    bound = CLAIM_SECONDS + SWEEP_SECONDS + 20
    wait_for(lambda: addendum_of(order).render_status == "ready", seconds=bound, workers=workers, what="the render")
    recovered_in = time.monotonic() - killed_at
    assert recovered_in < bound
    render = OutboxMessage.objects.get(handler="ordering.render_addendum", order_id=order.pk)
    assert (render.status, render.attempts) == ("delivered", 2)

    order = accept(cast, order, addendum_of(order))
    wait_for(lambda: addendum_of(order).final_sha256, seconds=20, workers=workers, what="the stamped copy")
    wait_for(lambda: len(workers.mails()) == 3, seconds=10, workers=workers, what="the acceptance e-mails")
    assert workers.mails() == [("am_a@example.test",), ("orderer_a@example.test",), ("signatory_a@example.test",)]
    assert_everything_checks_out(capsys)


# --- (b) The broker unreachable during approve and accept --------------------------------------


def test_with_the_broker_unreachable_transitions_succeed_and_every_email_is_sent_once_when_it_returns(
    cast, order_in, workers, through_the_broker, capsys
):
    order = order_in("submitted")
    through_the_broker()

    with BrokerOutage():
        order = services.order_issue_addendum(order=order, actor=cast.am_a)
    assert order.state == "awaiting_signature"
    waiting = OutboxMessage.objects.filter(order_id=order.pk, status="pending", dispatched_at__isnull=True)
    assert {m.handler for m in waiting} == {"ordering.notify_event", "ordering.render_addendum"}

    # The broker is back: this process's sweep and the worker's own beat both hand the same messages over.
    assert outbox_sweep() == 2
    workers.start()
    wait_for(lambda: addendum_of(order).render_status == "ready", seconds=30, workers=workers, what="the render")
    wait_for(lambda: workers.mails(), seconds=10, workers=workers, what="the signatory's e-mail")
    workers.stop_all()

    with BrokerOutage():
        order = accept(cast, order, addendum_of(order))
    assert order.state == "provisioning"
    assert not addendum_of(order).final_sha256

    assert outbox_sweep() == 2  # the stamp and the acceptance e-mails
    for message in OutboxMessage.objects.all():  # and every message once more, delivered or not
        celery_app.send_task("core.tasks.deliver_outbox_message", args=[message.pk], queue=QUEUE)
    workers.start()
    wait_for(lambda: addendum_of(order).final_sha256, seconds=30, workers=workers, what="the stamped copy")
    wait_for(
        lambda: not OutboxMessage.objects.exclude(status="delivered").exists(),
        seconds=15,
        workers=workers,
        what="every message delivered",
    )
    time.sleep(1)  # let the duplicate deliveries run out: they must send nothing
    assert workers.mails() == [("am_a@example.test",), ("orderer_a@example.test",), ("signatory_a@example.test",)]
    events = AuditEvent.objects.filter(order=order, kind__in=["issue_addendum", "accept"])
    assert sorted(n for e in events for n in e.notifications.values_list("email", flat=True)) == [
        "am_a@example.test",
        "orderer_a@example.test",
        "signatory_a@example.test",
    ]
    assert_everything_checks_out(capsys)


# --- (c) Storage failing during a render --------------------------------------------------------


def test_storage_failing_during_a_render_ends_failed_with_generate_again(
    cast, order_in, workers, through_the_broker, client, capsys
):
    order = order_in("submitted")
    through_the_broker()
    private = workers.tmp_path / "private"
    private.mkdir(exist_ok=True)
    (private / "addenda").write_bytes(b"")  # a file where the addenda directory belongs: every save fails
    workers.start()

    order = services.order_issue_addendum(order=order, actor=cast.am_a)
    failed = wait_for(
        lambda: addendum_of(order).render_status == "failed" and addendum_of(order),
        seconds=30,
        workers=workers,
        what="the render is given up",
    )
    assert failed.render_error.startswith("NotADirectoryError")
    render = OutboxMessage.objects.get(handler="ordering.render_addendum", order_id=order.pk)
    assert (render.status, render.attempts) == ("dead", services.RENDER_ATTEMPTS)

    client.force_login(cast.am_a)
    page = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    assert "Dokumentet kunne ikke dannes" in page and "Dan igen" in page
    with pytest.raises(SystemExit) as exit_info:
        call_command("check_health")
    assert exit_info.value.code == 1
    problems = capsys.readouterr().err
    assert f"addendum {failed.number} (order {order.pk}): rendering failed" in problems
    assert f"outbox #{render.pk} (ordering.render_addendum" in problems

    (private / "addenda").unlink()  # storage repaired
    client.post(reverse("ordering:addendum_render", args=[order.pk, failed.version]))
    wait_for(lambda: addendum_of(order).render_status == "ready", seconds=30, workers=workers, what="the render")
    assert_everything_checks_out(capsys)
