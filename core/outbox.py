"""The transactional outbox: every e-mail and background job a write causes, delivered at least once.

Writing. A service calls `outbox_enqueue()` inside its transaction: the row commits or rolls back with
the write itself, so no committed write is without its e-mails and jobs, and no rolled-back write has
any. What a row does is named by a handler that an app registered (`outbox_handler`), never by an
import path read from the database.

Delivering. After commit, the row is handed to the broker (`deliver_outbox_message`). The beat sweep
(`sweep_outbox`, every OUTBOX_SWEEP_SECONDS) hands over again whatever is due and not being delivered:
rows whose hand-over failed (broker down), whose worker died (claim ran out), whose retry time came,
and rows handed over but never taken (the web process died between marking and publishing), once
OUTBOX_REDISPATCH_SECONDS have passed. A delivery's claim is short (OUTBOX_CLAIM_SECONDS) and renewed
while its handler runs, so only a dead worker's claim runs out. Each of these is picked up within a
claim or redispatch window plus one sweep (config/settings.py gives the arithmetic).

    pending ──delivered──▶ delivered
       │ ▲
 failed│ │retry after back-off (OUTBOX_BACKOFF_SECONDS × 2^(attempt−1), at most OUTBOX_BACKOFF_MAX_SECONDS)
       ▼ │
    pending ──attempt N failed──▶ dead ──support: "send again"──▶ pending (attempts from 0)

The row id is the idempotency key: a delivery first claims the row with one conditional UPDATE, so
the task and the sweep (or a redelivered message) never run the same row at once. Handlers are still
written to be run again safely (an e-mail records each recipient), since a worker may die after the
work and before recording it.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.db.models import DurationField, ExpressionWrapper, F, Q, Value
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.trail import audit_record

from .audit import OutboxAuditKind
from .errors import NotAllowedNow, NotPermitted
from .models import OutboxMessage
from .transactions import retry_on_conflict

logger = logging.getLogger(__name__)

Status = OutboxMessage.Status
OPEN = (Status.PENDING, Status.DEAD)
SWEEP_BATCH = 500
# The Celery task that delivers one row (core/tasks.py), looked up by name: the tasks call this module,
# so this module does not import them back (no import cycle; .importlinter).
DELIVER_TASK = "core.tasks.deliver_outbox_message"


@dataclass(frozen=True)
class Handler:
    name: str
    run: Callable[..., object]
    label: str  # what support sees: "E-mails about an order event"
    max_attempts: int | None = None  # None: settings.OUTBOX_MAX_ATTEMPTS
    on_dead: Callable[[OutboxMessage], None] | None = None  # called once when the row is given up
    # Names the Celery queue its deliveries go to, read when dispatched (settings decide); None: the default
    # queue. Work that may wait long on others (webhooks) gets a queue, and worker slots, of its own.
    queue: Callable[[], str] | None = None

    @property
    def attempts_allowed(self) -> int:
        return self.max_attempts or settings.OUTBOX_MAX_ATTEMPTS


_handlers: dict[str, Handler] = {}


def outbox_handler(
    name: str,
    *,
    label,
    max_attempts: int | None = None,
    on_dead: Callable[[OutboxMessage], None] | None = None,
    queue: Callable[[], str] | None = None,
):
    """Register the decorated function as the handler `name`; it is called with the row's payload as keywords."""

    def register(function: Callable[..., object]) -> Callable[..., object]:
        existing = _handlers.get(name)
        if existing is not None and existing.run is not function:
            raise ValueError(f"outbox handler {name!r} is already registered")
        _handlers[name] = Handler(name, function, label, max_attempts, on_dead, queue)
        return function

    return register


def handler_named(name: str) -> Handler | None:
    return _handlers.get(name)


def _about(message: OutboxMessage) -> dict:
    """The fields every log line about a message carries (settings.LOGGING turns them into JSON keys)."""
    return {
        "outbox": message.pk,
        "handler": message.handler,
        "order": message.order_id,
        "event": message.event_id,
        "attempt": message.attempts,
    }


# --- Writing ----------------------------------------------------------------------------------


def outbox_enqueue(
    handler: str,
    *,
    payload: dict,
    key: str = "",
    order_id: int | None = None,
    event_id: int | None = None,
    subject: str = "",
) -> OutboxMessage:
    """Store work for after commit, in the caller's transaction, and hand it to the broker once committed.

    With a `key`, work already waiting (or given up) under that key is asked for again instead of being
    queued twice: its attempts start afresh and it is due now.
    """
    if handler not in _handlers:
        raise LookupError(f"no outbox handler named {handler!r}")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_enqueue() belongs inside the transaction of the write that causes the work")
    now = timezone.now()
    key = _full_key(handler, key)
    fields = {"payload": payload, "order_id": order_id, "event_id": event_id, "subject": subject[:100]}
    message = None
    if key:
        message = _ask_again(key, now, fields)
    if message is None:
        try:
            with transaction.atomic():
                message = OutboxMessage.objects.create(handler=handler, key=key, next_attempt_at=now, **fields)
        except IntegrityError:
            # A parallel transaction queued the same key first (and has committed meanwhile).
            message = _ask_again(key, now, fields)
            if message is None:
                raise
    transaction.on_commit(lambda: outbox_dispatch(message), robust=True)
    return message


def _full_key(handler: str, key: str) -> str:
    return f"{handler}:{key}" if key else ""  # keys are per handler


def outbox_holds(handler: str, *, key: str) -> bool:
    """Whether work under this key is waiting or was given up (and so needs no new message)."""
    return OutboxMessage.objects.filter(key=_full_key(handler, key), status__in=OPEN).exists()


def _ask_again(key: str, now, fields: dict) -> OutboxMessage | None:
    message = OutboxMessage.objects.select_for_update().filter(key=key, status__in=OPEN).first()
    if message is None:
        return None
    for name, value in fields.items():
        setattr(message, name, value)
    message.status, message.attempts, message.next_attempt_at = Status.PENDING, 0, now
    message.save(update_fields=["status", "attempts", "next_attempt_at", *fields])
    return message


@retry_on_conflict
def outbox_send_again(*, message: OutboxMessage, actor) -> OutboxMessage:
    """Support gives a dead message a fresh set of attempts."""
    if not (actor.is_authenticated and actor.is_active and actor.is_support):
        raise NotPermitted(_("Only support can send an outbox message again."))
    with transaction.atomic():
        locked = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        if locked.status != Status.DEAD:
            raise OutboxError(_("This message is no longer given up; it has been sent again or delivered."))
        now = timezone.now()
        locked.status, locked.attempts, locked.next_attempt_at = Status.PENDING, 0, now
        locked.claimed_until, locked.dispatched_at = None, None
        locked.sent_again_by, locked.sent_again_at = actor, now
        locked.save(
            update_fields=[
                "status",
                "attempts",
                "next_attempt_at",
                "claimed_until",
                "dispatched_at",
                "sent_again_by",
                "sent_again_at",
            ]
        )
        # The role is ordering's code for support (ordering.roles.Role.SUPPORT), which core may not import.
        audit_record(kind=OutboxAuditKind.OUTBOX_SENT_AGAIN, actor=actor, role="support", subject=locked)
        transaction.on_commit(lambda: outbox_dispatch(locked), robust=True)
    return locked


class OutboxError(NotAllowedNow):
    """What support asked cannot be done now; `message` says why."""


# --- Delivering -------------------------------------------------------------------------------


def outbox_dispatch(message: OutboxMessage) -> bool:
    """Hand a row to the broker. A failure is logged and left to the sweep; it never reaches the caller."""
    deliver_outbox_message = current_app.tasks[DELIVER_TASK]
    # Marked before publishing: a worker may take the message before publishing returns.
    OutboxMessage.objects.filter(pk=message.pk, status=Status.PENDING).update(dispatched_at=timezone.now())
    handler = _handlers.get(message.handler)
    queue = handler.queue() if handler is not None and handler.queue is not None else None
    try:
        deliver_outbox_message.apply_async((message.pk,), queue=queue)
    except Exception:
        OutboxMessage.objects.filter(pk=message.pk, status=Status.PENDING).update(dispatched_at=None)
        logger.warning(
            "Outbox message %s could not be handed to the broker; the sweep will try again",
            message.pk,
            exc_info=True,
            extra=_about(message),
        )
        return False
    return True


def outbox_backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt."""
    seconds = settings.OUTBOX_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.OUTBOX_BACKOFF_MAX_SECONDS))


def outbox_deliver(message_id: int, *, token: str | None = None) -> bool:
    """Claim a due row and run its handler; True when this call delivered it.

    `token` names this delivery (the Celery task id): the broker giving the same message again after
    its worker died may take the row over at once instead of waiting for the claim to run out.
    """
    token = token or uuid.uuid4().hex
    now = timezone.now()
    claimed = (
        OutboxMessage.objects.filter(pk=message_id, status=Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now) | Q(claim_token=token))
        .update(
            claimed_until=now + _claim_lasts(),
            claim_token=token,
            attempts=F("attempts") + 1,
            dispatched_at=None,
        )
    )
    if not claimed:
        return False  # delivered already, being delivered, given up, or not due yet
    message = OutboxMessage.objects.get(pk=message_id)
    handler = _handlers.get(message.handler)
    allowed = handler.attempts_allowed if handler is not None else settings.OUTBOX_MAX_ATTEMPTS
    if message.attempts > allowed:
        # The previous attempt was the last one allowed, and its worker died before recording the outcome.
        _give_up(message, handler, message.last_error or "the worker stopped during the last attempt", token)
        return False
    try:
        if handler is None:
            # A worker still running older code during a deployment: a newer one will know the handler.
            raise LookupError(f"no outbox handler named {message.handler!r} in this worker")
        with _claim_kept(message.pk, token):
            handler.run(**message.payload)
    except Exception as error:
        reason = f"{type(error).__name__}: {error}"[:2000]
        if message.attempts >= allowed:
            logger.error("Outbox message %s failed", message.pk, exc_info=True, extra=_about(message))
            _give_up(message, handler, reason, token)
        else:
            retry_at = timezone.now() + outbox_backoff(message.attempts)
            OutboxMessage.objects.filter(pk=message.pk, claim_token=token).update(
                next_attempt_at=retry_at, claimed_until=None, last_error=reason
            )
            logger.warning(
                "Outbox message %s failed; trying again at %s",
                message.pk,
                retry_at.isoformat(timespec="seconds"),
                exc_info=True,
                extra=_about(message),
            )
        return False
    OutboxMessage.objects.filter(pk=message.pk, claim_token=token).update(
        status=Status.DELIVERED, delivered_at=timezone.now(), claimed_until=None, last_error=""
    )
    return True


def _claim_lasts() -> timedelta:
    return timedelta(seconds=settings.OUTBOX_CLAIM_SECONDS)


@contextmanager
def _claim_kept(message_id: int, token: str):
    """Renew this delivery's claim every third of OUTBOX_CLAIM_SECONDS until the handler returns.

    The claim is short so that a dead worker's message is taken over soon; a live one, however slow,
    keeps it by renewing. The renewing thread dies with its process, so a killed worker renews nothing.
    Inside the caller's transaction (a task run eagerly) nobody else can see the claim: nothing to renew.
    """
    if transaction.get_connection().in_atomic_block:
        yield
        return
    stop = threading.Event()
    renewer = threading.Thread(
        target=_renew_claim, args=(message_id, token, stop), name=f"outbox-claim-{message_id}", daemon=True
    )
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        # Joined before the outcome is recorded, so that no late renewal holds a row due for a retry.
        renewer.join(timeout=settings.OUTBOX_CLAIM_SECONDS)


def _renew_claim(message_id: int, token: str, stop: threading.Event) -> None:
    try:
        while not stop.wait(settings.OUTBOX_CLAIM_SECONDS / 3):
            try:
                renewed = OutboxMessage.objects.filter(pk=message_id, claim_token=token, status=Status.PENDING).update(
                    claimed_until=timezone.now() + _claim_lasts()
                )
            except Exception:
                # The database is unreachable for a moment: the next renewal may succeed before the claim ends.
                logger.warning("Renewing the claim on outbox message %s failed", message_id, exc_info=True)
                continue
            if not renewed:
                return  # taken over or finished: nothing of ours to keep
    finally:
        connections.close_all()  # this thread's connection only


def _give_up(message: OutboxMessage, handler: Handler | None, reason: str, token: str) -> None:
    updated = OutboxMessage.objects.filter(pk=message.pk, claim_token=token, status=Status.PENDING).update(
        status=Status.DEAD, claimed_until=None, last_error=reason
    )
    if not updated:
        return
    message.status, message.last_error = Status.DEAD, reason
    logger.error(
        "Outbox message %s given up after %s attempts: %s",
        message.pk,
        message.attempts,
        reason,
        extra=_about(message),
    )
    if handler is not None and handler.on_dead is not None:
        try:
            handler.on_dead(message)
        except Exception:
            logger.exception("Recording that outbox message %s was given up failed", message.pk, extra=_about(message))


def outbox_sweep(*, now=None) -> int:
    """Hand over again every row that is due and neither running nor recently handed over. Returns how many."""
    now = now or timezone.now()
    due = (
        OutboxMessage.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .filter(_not_handed_over_lately(now))
        .order_by("next_attempt_at", "pk")[:SWEEP_BATCH]
    )
    return sum(outbox_dispatch(message) for message in due)


def _not_handed_over_lately(now) -> Q:
    """Never handed over, or handed over and not taken since: dispatched again, with a growing pause.

    A row handed over but never taken (the web process died between marking it and publishing, or the
    message was lost) is taken up OUTBOX_REDISPATCH_SECONDS after its hand-over, by the next sweep. A
    duplicate is harmless (the claim is one conditional UPDATE), but a queue that is merely long (workers
    busy or down) must not gain a copy of every waiting row at every sweep: a row is handed over again
    only once it has waited since its last hand-over at least as long as it had waited before it, so
    the copies double their spacing (about log2 of the wait in all: 8 in the first hour).
    """
    since_last = ExpressionWrapper(Value(now) - F("dispatched_at"), output_field=DurationField())
    before_last = ExpressionWrapper(F("dispatched_at") - F("next_attempt_at"), output_field=DurationField())
    window = timedelta(seconds=settings.OUTBOX_REDISPATCH_SECONDS)
    return Q(dispatched_at__isnull=True) | (
        Q(dispatched_at__lt=now - window) & Q(GreaterThanOrEqual(since_last, before_last))
    )


# --- Reading, for operators and /readyz --------------------------------------------------------


def _overdue(now=None, older_than: timedelta | None = None):
    now = now or timezone.now()
    older_than = older_than if older_than is not None else timedelta(seconds=settings.OUTBOX_OVERDUE_SECONDS)
    return OutboxMessage.objects.filter(status=Status.PENDING, created_at__lt=now - older_than)


def outbox_backlog(older_than: timedelta | None = None) -> int:
    """How many messages have waited longer than `older_than` (OUTBOX_OVERDUE_SECONDS) without being delivered.

    Given-up messages are not counted: they wait for support, not for this instance.
    """
    return _overdue(older_than=older_than).count()


def outbox_problems(*, now=None) -> list[str]:
    """A line for every given-up message and every message overdue, for `manage.py check_health`."""
    problems = []
    for message in OutboxMessage.objects.filter(status=Status.DEAD).order_by("pk"):
        problems.append(
            f"outbox #{message.pk} ({message.handler}{_named(message)}): given up after "
            f"{message.attempts} attempts: {message.last_error}"
        )
    for message in _overdue(now).order_by("pk"):
        problems.append(
            f"outbox #{message.pk} ({message.handler}{_named(message)}): not delivered since "
            f"{message.created_at.isoformat(timespec='seconds')}, {message.attempts} attempts"
            + (f", last error: {message.last_error}" if message.last_error else "")
        )
    return problems


def _named(message: OutboxMessage) -> str:
    parts = [message.subject] if message.subject else []
    if message.order_id:
        parts.append(f"order {message.order_id}")
    if message.event_id:
        parts.append(f"event {message.event_id}")
    return (", " + ", ".join(parts)) if parts else ""
