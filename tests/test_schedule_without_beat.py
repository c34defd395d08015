"""`make run`'s schedule without beat (manage.py run_schedule): a failed webhook or e-mail is tried again.

Without a broker beat has nowhere to publish, so `make run` runs CELERY_BEAT_SCHEDULE in a process of its own
beside the server (tests/test_install.py checks that it does). `--once` runs what is due and stops.
"""

import logging

import pytest
from celery import shared_task
from celery.schedules import crontab
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from core.models import OutboxMessage
from ordering import services
from tests.conftest import make_order
from webhooks import services as webhooks
from webhooks.models import WebhookDelivery, WebhookEndpoint

from .webhooks.receiver import Receiver

ran: list[str] = []


@shared_task(name="tests.schedule.record")
def record(name: str) -> None:
    ran.append(name)


@shared_task(name="tests.schedule.fail")
def fail() -> None:
    raise OSError("database is locked")


@pytest.fixture(autouse=True)
def nothing_ran_yet(settings):
    ran.clear()
    # What `make run` has: no broker (CI's PostgreSQL run sets one; the test that wants one sets it again).
    settings.CELERY_BROKER_URL = ""


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_REQUIRE_HTTPS = False
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with Receiver() as running:
        yield running


def refused_once(cast, receiver, capture) -> WebhookDelivery:
    """A submitted order's webhook, refused by the customer's receiver (503) and waiting for its back-off."""
    itsm = WebhookEndpoint.objects.create(url=receiver.url("/itsm"), customer=cast.customer_a, kinds=["submit"])
    receiver.listen("/itsm", itsm.secret, status=503, body=b"busy")
    draft = make_order(cast, "draft")
    with capture(execute=True):
        services.order_submit(order=draft, actor=cast.orderer_a)
    delivery = WebhookDelivery.objects.get(endpoint=itsm)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    receiver.routes["/itsm"].status = 204
    return delivery


def message_of(delivery: WebhookDelivery) -> OutboxMessage:
    return OutboxMessage.objects.get(handler=webhooks.DELIVER, payload__delivery_id=delivery.pk)


def test_a_webhook_its_receiver_refused_is_sent_again_once_its_back_off_is_over(
    cast, receiver, django_capture_on_commit_callbacks
):
    delivery = refused_once(cast, receiver, django_capture_on_commit_callbacks)
    OutboxMessage.objects.filter(pk=message_of(delivery).pk).update(next_attempt_at=timezone.now())

    call_command("run_schedule", "--once")

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert message_of(delivery).status == "delivered"
    assert [r.verified for r in receiver.at("/itsm")] == [True, True]


def test_a_webhook_is_not_sent_again_before_its_back_off_is_over(cast, receiver, django_capture_on_commit_callbacks):
    delivery = refused_once(cast, receiver, django_capture_on_commit_callbacks)

    call_command("run_schedule", "--once")

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert len(receiver.at("/itsm")) == 1


def test_the_interval_entries_run_at_once_and_the_daily_ones_wait_for_their_time(db, settings):
    settings.CELERY_BEAT_SCHEDULE = {
        "every-minute": {"task": "tests.schedule.record", "schedule": 60.0, "args": ("every-minute",)},
        "nightly": {"task": "tests.schedule.record", "schedule": crontab(hour=0, minute=15), "args": ("nightly",)},
    }
    call_command("run_schedule", "--once")
    assert ran == ["every-minute"]


def test_an_entry_that_fails_is_logged_and_the_others_still_run(db, settings, caplog):
    settings.CELERY_BEAT_SCHEDULE = {
        "failing": {"task": "tests.schedule.fail", "schedule": 60.0},
        "after-it": {"task": "tests.schedule.record", "schedule": 60.0, "args": ("after-it",)},
    }
    with caplog.at_level(logging.ERROR, logger="config.management.commands.run_schedule"):
        call_command("run_schedule", "--once")
    assert ran == ["after-it"]
    assert "Scheduled task failing (tests.schedule.fail) failed; it runs again at its next time" in caplog.text


def test_with_a_broker_the_schedule_is_left_to_beat(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    with pytest.raises(CommandError, match="Start `make worker` and `make beat` instead"):
        call_command("run_schedule", "--once")
