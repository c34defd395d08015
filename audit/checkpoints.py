"""When the signed checkpoints of the audit trail's head are written (#21), so that the stretch of events no
checkpoint pins stays short:

- every AUDIT_CHECKPOINT_EVERY_MINUTES minutes (Celery beat, `write_audit_checkpoint`), whether or not the trail
  moved, so that a missing recent checkpoint is itself a sign (`verify_audit_log --checkpoints`);
- after every AUDIT_CHECKPOINT_EVERY_EVENTS-th event;
- right after each kind registered as weighty (audit/vocabulary.py `register_checkpoint_after`: an acceptance of
  an addendum, an emergency closure).

The worker writes them: it holds AUDIT_CHECKPOINT_KEY, the web machines do not. docs/audit.md says what remains
open between two checkpoints.
"""

import logging

logger = logging.getLogger(__name__)


def checkpoint_soon() -> None:
    """Queue a checkpoint (after the commit of the event that asks for it). Never fails the write that asked:
    the event is committed, and a checkpoint missed here is written at the next interval."""
    from .tasks import write_audit_checkpoint

    try:
        write_audit_checkpoint.delay()
    except Exception:
        logger.exception("An audit checkpoint could not be queued; the next scheduled one pins the trail.")
