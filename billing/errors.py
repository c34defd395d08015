"""Billing refuses with the kinds of the shared error model (core/errors.py).

`BillingError` is kept as the name billing's callers and tests know: it is any refusal, so
`except BillingError` also catches a permission failure (`NotPermitted`, from core like the rest).
"""

from core.errors import ChangedMeanwhile, Invalid, NotAllowedNow, NotPermitted, Refusal

BillingError = Refusal

__all__ = ["BillingError", "ChangedMeanwhile", "Invalid", "NotAllowedNow", "NotPermitted"]
