"""The error model every app shares (docs/style.md practice 12).

A service that will not do what was asked raises a `Refusal`: nothing was written, and `message`
says in a sentence, in the user's language, what is wrong and what to do. It raises one of the five
kinds below, so that callers can tell them apart without parsing sentences; views turn any of them
into a message or form errors in one place (`core.http.show_refusal`).

Pure cores (billing/pricing.py, certificates/validation.py) know nothing of users or languages: they
raise their own small exceptions, and the Django code around them turns those into refusals.
"""

from django.utils.translation import gettext as _


class Refusal(Exception):
    def __init__(self, message: str, *, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}  # field name -> sentence, for forms that show errors on their fields


class NotPermitted(Refusal):
    """The user's role does not allow this. Views also write it to the security log."""


class NotAllowedNow(Refusal):
    """Not in the current state of things (the order's state, a missing price list); it may be later."""


class ChangedMeanwhile(Refusal):
    """Someone else changed the object since the user looked at it; reloading shows what happened."""


class Invalid(Refusal):
    """What the user gave is wrong; `errors` names the fields when a form can show them."""


class Contended(Refusal):
    """The database kept refusing the write because of others at the same moment; nothing was saved, and the same
    request a moment later will most likely go through (core/transactions.py gives up with it)."""

    # What the API tells a program to wait before it tries again (Retry-After).
    RETRY_AFTER_SECONDS = 2

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message or _("Many changes were being saved at the same moment, so yours was not saved. Please try again.")
        )
