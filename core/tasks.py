"""The outbox's two tasks: deliver one message, and sweep up what is due (core/outbox.py)."""

from celery import shared_task

from .outbox import DELIVER_TASK, outbox_deliver, outbox_sweep


@shared_task(bind=True, name=DELIVER_TASK)
def deliver_outbox_message(self, message_id: int) -> bool:
    # The task id names the delivery: the same message redelivered after its worker died takes over at once.
    return outbox_deliver(message_id, token=self.request.id)


@shared_task
def sweep_outbox() -> int:
    return outbox_sweep()
