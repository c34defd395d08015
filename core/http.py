"""How views answer: a refused write (the one place a `Refusal` becomes what the user sees), and a conditional read."""

from collections.abc import Callable
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from .errors import NotPermitted, Refusal
from .form_tokens import Outcome, submit_once
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


def submit_or_refuse(
    request: HttpRequest,
    write: Callable[[], Outcome],
    *,
    refused: str | Callable[[], HttpResponse] | None = None,
    form: forms.Form | None = None,
    **log,
) -> HttpResponse | None:
    """Run a form's write once for its token (`submit_once`), or, when it is refused, show why and answer `refused`.

    The refusal is shown by `show_refusal` (on `form`'s fields, if given; `log` for the security log). Then
    `refused` answers: a URL to go back to, a function that makes the answer (the page again, with the form as
    sent), or None: the caller shows its form again.
    """
    try:
        return submit_once(request, write)
    except Refusal as refusal:
        show_refusal(request, refusal, form=form, **log)
    if refused is None:
        return None
    return redirect(refused) if isinstance(refused, str) else refused()


def allowed_if(may: Callable[..., bool]):
    """A view only a user who `may(user)` opens (a role's list, a register): anyone else gets 403, which the
    security log records (SecurityEventMiddleware). Below @login_required, which sends a visitor to log in."""

    def decorate(view):
        @wraps(view)
        def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not may(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return checked

    return decorate


def posted_form_view(form_class, *, find, write, again, action: str, log: str = "order"):
    """The view of a form posted from an object's page (an order's, a request for help's):

    `find(user, pk)` is the object or a 404; `write(actor, found, data)` → Outcome runs once for the form's token;
    `again(request, found, form)` is the page again with what was typed — for an invalid form (errors by their
    fields), or a refusal (its sentences by the fields they name, above the page when they name none: the form
    may not be offered in this state, so it could not show them). The security log names the object as `log`.
    """

    @login_required
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        found = find(request.user, pk)
        form = form_class(request.POST)
        if not form.is_valid():
            return again(request, found, form)
        try:
            return submit_once(request, lambda: write(request.user, found, form.cleaned_data))
        except Refusal as refusal:
            show_refusal(request, refusal, form=form if refusal.errors else None, action=action, **{log: found.pk})
        return again(request, found, form)

    return view


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Whether an If-None-Match header holds `etag` or "*": the API's reads and the access register ask it.

    The weak comparison (RFC 9110, 8.8.3.2) that If-None-Match uses: `W/"x"` matches `"x"`.
    """
    tags = {tag.strip().removeprefix("W/") for tag in (if_none_match or "").split(",") if tag.strip()}
    return "*" in tags or etag.removeprefix("W/") in tags
