"""Webhook deliveries go to a Celery queue of their own, so a slow receiver holds only the webhook worker's
slots (tests/reliability/test_slow_receiver.py shows it with real workers); everything else keeps the default."""

from core.models import OutboxMessage
from core.outbox import outbox_dispatch
from core.tasks import deliver_outbox_message
from ordering import services
from webhooks.models import WebhookEndpoint
from webhooks.services import DELIVER


def test_webhook_deliveries_go_to_the_webhook_queue_and_everything_else_to_the_default_queue(
    cast, order_in, receiver, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_QUEUE = "hooks-elsewhere"  # read when dispatched
    WebhookEndpoint.objects.create(url=receiver.url("/itsm"), customer=cast.customer_a)
    order = order_in("draft")
    with django_capture_on_commit_callbacks(execute=False):
        services.order_submit(order=order, actor=cast.orderer_a)
    sent: dict[int, str | None] = {}
    monkeypatch.setattr(
        deliver_outbox_message, "apply_async", lambda args, queue=None: sent.__setitem__(args[0], queue)
    )

    for message in OutboxMessage.objects.filter(status="pending"):
        assert outbox_dispatch(message)

    handlers = dict(OutboxMessage.objects.filter(pk__in=sent).values_list("pk", "handler"))
    assert DELIVER in handlers.values() and set(handlers.values()) - {DELIVER}  # both kinds were dispatched
    for pk, queue in sent.items():
        assert queue == ("hooks-elsewhere" if handlers[pk] == DELIVER else None)  # None: CELERY_TASK_DEFAULT_QUEUE
