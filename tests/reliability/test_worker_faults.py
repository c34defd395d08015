"""Faults with a real worker: killed mid-render, a web process killed after its commit, broker unreachable,
storage failing or full. Nothing stuck, nothing lost, no file left behind.

PostgreSQL, Redis and a Celery worker started here as a subprocess (tests/reliability/worker_app.py,
which shortens the outbox's timings and can make the first render slow). The test data is committed
(transactional tests) so the worker sees it; the worker uses this session's test database and a queue
of its own, so parallel runs on one Redis never take each other's tasks.
"""

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from audit.models import AuditEvent
from config import celery_app
from core.models import OutboxMessage
from core.outbox import outbox_sweep
from ordering import services
from ordering.models import Addendum
from tests.real_broker import BROKER_URL, BrokerOutage, queue_fixtures, worker_database_url

from .workers import BASE_DIR, Workers, wait_for

QUEUE = f"reliability-{uuid.uuid4().hex[:12]}"  # one per test session
# Short claims and sweeps: a scenario takes seconds. The slow render outlives several claims by renewing.
CLAIM_SECONDS, SWEEP_SECONDS = 3, 1

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.processes,
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
    # Alive, the slow render keeps its message for three claims, though the worker's sweep runs every second.
    render = OutboxMessage.objects.get(handler="ordering.render_addendum", order_id=order.pk)
    time.sleep(3 * CLAIM_SECONDS)
    held = OutboxMessage.objects.get(pk=render.pk)
    assert (held.attempts, held.claim_token) == (1, render.claim_token)
    assert held.claimed_until > render.claimed_until  # renewed

    workers.kill(first)
    killed_at = time.monotonic()
    assert addendum_of(order).render_status == "pending"

    workers.start(RELIABILITY_SLOW_RENDER_MARKER=str(marker))  # as systemd would; renders normally now
    # Bound: the dead worker's last claim runs out, the next sweep hands the render over, a render takes
    # seconds. With the production timings that is 30 s + 30 s + the render (test_outbox.py's arithmetic).
    bound = CLAIM_SECONDS + SWEEP_SECONDS + 20
    wait_for(lambda: addendum_of(order).render_status == "ready", seconds=bound, workers=workers, what="the render")
    recovered_in = time.monotonic() - killed_at
    print(f"killed mid-render: rendered again {recovered_in:.1f} s after the kill (claim {CLAIM_SECONDS} s)")
    assert recovered_in < bound
    # The handler commits the addendum before the outbox row is marked delivered (a statement of its own, so that
    # a worker dying between the two delivers again rather than never): wait for the mark, not just the render.
    wait_for(
        lambda: OutboxMessage.objects.filter(pk=render.pk, status="delivered"),
        seconds=10,
        workers=workers,
        what="the render's outbox row marked delivered",
    )
    assert OutboxMessage.objects.get(pk=render.pk).attempts == 2

    order = accept(cast, order, addendum_of(order))
    wait_for(lambda: addendum_of(order).final_sha256, seconds=20, workers=workers, what="the stamped copy")
    wait_for(lambda: len(workers.mails()) == 3, seconds=10, workers=workers, what="the acceptance e-mails")
    assert workers.mails() == [("am_a@example.test",), ("orderer_a@example.test",), ("signatory_a@example.test",)]
    assert_everything_checks_out(capsys)


# --- (a2) The web process killed between COMMIT and the hand-over ---------------------------------


def test_work_whose_hand_over_died_with_the_web_process_is_delivered_within_the_redispatch_window(
    cast, order_in, workers, capsys
):
    """Production's redispatch window (20 s) and claim (30 s); only the sweep's period is shortened to 5 s,
    so the bound is the window plus a sweep (production: 20 s + 30 s), not the claim plus the broker's
    visibility timeout it was (336 s)."""
    sweep = 5
    order = order_in("submitted")
    workers.start(
        RELIABILITY_SWEEP_SECONDS=str(sweep), RELIABILITY_CLAIM_SECONDS=str(django_settings.OUTBOX_CLAIM_SECONDS)
    )
    web = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "tests.reliability.crash_after_commit", str(order.pk), str(cast.am_a.pk)],
        cwd=BASE_DIR,
        env={
            **os.environ,
            "DATABASE_URL": worker_database_url(),
            "CELERY_BROKER_URL": BROKER_URL,
            "SUPPORT_PHONE": django_settings.SUPPORT_PHONE,
            "SUPPORT_EMAIL": django_settings.SUPPORT_EMAIL,
        },
        capture_output=True,
        timeout=60,
    )
    killed_at = time.monotonic()
    assert web.returncode == -signal.SIGKILL, web.stderr.decode()
    messages = OutboxMessage.objects.filter(order_id=order.pk).order_by("pk")
    assert {m.handler for m in messages} == {"ordering.notify_event", "ordering.render_addendum"}
    # One message was marked handed over and never published; the worker's sweep may already have taken
    # the other (never marked: the next sweep's), but nothing may take the marked one before the window.
    marked = messages.get(pk=int(web.stdout))
    assert (marked.status, marked.attempts) == ("pending", 0) and marked.dispatched_at is not None

    window = django_settings.OUTBOX_REDISPATCH_SECONDS
    bound = window + sweep + 15  # the window, a sweep, and the worker's run (a render: seconds)
    wait_for(
        lambda: not messages.exclude(status="delivered").exists(),
        seconds=bound,
        workers=workers,
        what="the render and the e-mail",
    )
    recovered_in = time.monotonic() - killed_at
    print(f"crash after commit: everything delivered {recovered_in:.1f} s after the kill (window {window} s)")
    assert recovered_in < bound
    assert addendum_of(order).render_status == "ready" and workers.mails() == [("signatory_a@example.test",)]
    assert {m.attempts for m in messages.all()} == {1}
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


# --- (d) Private storage full during a render ---------------------------------------------------


def test_a_render_on_a_full_disk_leaves_no_file_behind_and_succeeds_when_space_returns(
    cast, order_in, workers, through_the_broker, capsys
):
    order = order_in("submitted")
    through_the_broker()
    disk_full = workers.tmp_path / "disk-full"
    disk_full.touch()
    workers.start(RELIABILITY_DISK_FULL_WHILE=str(disk_full), RELIABILITY_BACKOFF_SECONDS="3")
    addenda = workers.tmp_path / "private" / "addenda"

    order = services.order_issue_addendum(order=order, actor=cast.am_a)
    render = wait_for(
        lambda: OutboxMessage.objects.filter(
            handler="ordering.render_addendum", order_id=order.pk, attempts=1, claimed_until__isnull=True
        ).first(),
        seconds=30,
        workers=workers,
        what="the first render attempt fails",
    )
    # The next attempt is 3 s away: nothing is being written now, and nothing was left.
    assert render.status == "pending" and "No space left on device" in render.last_error
    addendum = addendum_of(order)
    assert (addendum.render_status, addendum.pdf.name, addendum.pdf_sha256) == ("pending", "", "")
    assert not [p for p in addenda.rglob("*") if p.is_file()]

    disk_full.unlink()  # space returns
    wait_for(lambda: addendum_of(order).render_status == "ready", seconds=30, workers=workers, what="the render")
    addendum = addendum_of(order)
    assert sorted(p.relative_to(addenda.parent).as_posix() for p in addenda.rglob("*") if p.is_file()) == [
        addendum.pdf.name
    ]
    render.refresh_from_db()
    assert (render.status, render.attempts) == ("delivered", 2)
    assert_everything_checks_out(capsys)
