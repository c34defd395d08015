"""How views answer a refused write: the one place a `Refusal` becomes what the user sees."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest

from .errors import NotPermitted, Refusal
from .security import SecurityEvent, security_event


def show_refusal(request: HttpRequest, refusal: Refusal, *, form: forms.Form | None = None, **log) -> None:
    """Tell the user why nothing was done.

    With a `form` the view shows again, the sentences go on the fields they name (the rest above the
    form); without one, the message is shown on the page the view redirects to. A refusal for want of
    the role is also written to the security log, with `log` saying what was refused (e.g.
    `action="reject", order=42`).
    """
    if isinstance(refusal, NotPermitted):
        security_event(request, SecurityEvent.ACTION_REFUSED, reason=refusal.message, **log)
    if form is None:
        messages.error(request, refusal.message)
        return
    for field, message in refusal.errors.items():
        form.add_error(field if field in form.fields else None, message)
    if not refusal.errors:
        form.add_error(None, refusal.message)
