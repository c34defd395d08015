"""Writes that survive a deadlock: the whole transaction is tried again, a bounded number of times.

Every write takes its row locks in one order (documented in ordering/services/__init__.py), so PostgreSQL
should never have to break a deadlock. Should it still do so (40P01), or refuse a transaction for a
serialization failure (40001), the transaction was rolled back whole and can simply run again: the
`retry_on_conflict` decorator runs it again after a short, jittered pause, and after the last
attempt refuses with a sentence for the user (`Contended`) – never an error page.

Only the outermost transaction can be retried: once PostgreSQL aborts a transaction, every block
inside it is lost, so a decorated function called inside another transaction runs as it is and
leaves the retry to whoever opened the transaction.
"""

import functools
import logging
import random
import time
from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, OperationalError, transaction

from .errors import Contended

__all__ = ["Contended", "retry_on_conflict", "transient_reason"]

logger = logging.getLogger(__name__)

ATTEMPTS = 3
# The pause before attempt n+1 is about BACKOFF_SECONDS × 2^(n-1), jittered by ±50 % so that the
# transactions that collided do not collide again in step.
BACKOFF_SECONDS = 0.05
TRANSIENT = {"40P01": "deadlock", "40001": "serialization failure"}


def transient_reason(error: BaseException) -> str | None:
    """'deadlock' or 'serialization failure' when PostgreSQL rolled the transaction back for one; else None."""
    cause = error.__cause__
    code = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    return TRANSIENT.get(code)


def retry_on_conflict(func: Callable | None = None, *, attempts: int = ATTEMPTS, using: str = DEFAULT_DB_ALIAS):
    """Run the decorated function in its own transaction; run all of it again after a deadlock.

    Use it on every service that writes (`@retry_on_conflict`). What the function does before its
    first query runs again too, so it must be safe to repeat (checks and pure computation are).
    """

    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def run(*args, **kwargs):
            if transaction.get_connection(using).in_atomic_block:
                return func(*args, **kwargs)
            for attempt in range(1, attempts + 1):
                try:
                    with transaction.atomic(using=using):
                        return func(*args, **kwargs)
                except OperationalError as error:
                    reason = transient_reason(error)
                    if reason is None:
                        raise
                    logger.warning(
                        "%s: %s, attempt %d of %d",
                        func.__qualname__,
                        reason,
                        attempt,
                        attempts,
                        extra={"write": func.__qualname__, "reason": reason, "attempt": attempt},
                    )
                    if attempt == attempts:
                        raise Contended() from error
                    time.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1) * random.uniform(0.5, 1.5))
            raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

        return run

    return decorate(func) if func is not None else decorate
