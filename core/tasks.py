"""The outbox's two tasks: deliver one message, and sweep up what is due (core/outbox.py)."""

from celery import shared_task


@shared_task(bind=True)
def deliver_outbox_message(self, message_id: int) -> bool:
    from .outbox import outbox_deliver

    # The task id names the delivery: the same message redelivered after its worker died takes over at once.
    return outbox_deliver(message_id, token=self.request.id)


@shared_task
def sweep_outbox() -> int:
    from .outbox import outbox_sweep

    return outbox_sweep()
