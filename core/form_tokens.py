"""One-time form tokens: a form sent twice – a double click, a page sent again – acts once.

Rendering. `{% form_token %}` (core/templatetags/form_tokens.py) puts a hidden field into a form: a
fresh random token, signed together with the user's id and the time, so it cannot be forged, sent
by another user, or kept for ever (MAX_AGE).

Sending. The view runs its write through `submit_once(request, write)`. In one transaction the token
is claimed (a FormSubmission row, unique per user and token), the write runs, and its answer – where
to go and what to tell the user – is stored on the claim. A second submission of the token finds the
claim and gets the same answer, prefixed "Already done", writing nothing; one that arrives while the
first is still running waits on the unique index until the first commits, and then does the same. So
a write whose commit succeeded but whose answer never reached the browser (the database or the
network went away in between) is recognised when the form is sent again. A refused write rolls back
its claim with it, so the form can be corrected and sent again.

The claim is the first lock the transaction takes (the lock order is in ordering/services/__init__.py), and
the whole transaction is retried after a deadlock (core/transactions.py).
"""

import datetime
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core import signing
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import Refusal
from .models import FormSubmission
from .transactions import retry_on_conflict

FIELD = "form_token"
MAX_AGE = datetime.timedelta(days=7)
_SALT = "core.form_tokens"


@dataclass(frozen=True)
class Outcome:
    """What a write answers: where the user goes next and what they are told there."""

    url: str
    message: str
    level: int = messages.SUCCESS


class InvalidFormToken(Refusal):
    """The form's token is missing, forged, someone else's or too old; nothing was done."""


def _unverified() -> InvalidFormToken:
    return InvalidFormToken(_("This form could not be verified, so nothing was done. Reload the page and try again."))


def form_token_issue(user_id: int) -> str:
    return signing.TimestampSigner(salt=_SALT).sign(f"{user_id}.{secrets.token_urlsafe(18)}")


def _token_of(request: HttpRequest) -> str:
    """The random part of the request's token, once it is known to be this user's and fresh."""
    try:
        value = signing.TimestampSigner(salt=_SALT).unsign(request.POST.get(FIELD, ""), max_age=MAX_AGE)
    except signing.SignatureExpired:
        raise InvalidFormToken(
            _("The page was open for too long, so nothing was done. Reload the page and try again.")
        ) from None
    except signing.BadSignature:
        raise _unverified() from None
    user_id, _dot, token = value.partition(".")
    if user_id != str(request.user.pk) or not token:
        raise _unverified()
    return token


class _AlreadyClaimed(Exception):
    pass


@retry_on_conflict
def _claim_and_write(request: HttpRequest, token: str, write: Callable[[], Outcome]) -> Outcome:
    # A block of its own even inside a caller's transaction: a refused write takes its claim with it.
    with transaction.atomic():
        try:
            with transaction.atomic():
                claim = FormSubmission.objects.create(user=request.user, token=token, path=request.path)
        except IntegrityError:
            raise _AlreadyClaimed from None
        outcome = write()
        FormSubmission.objects.filter(pk=claim.pk).update(
            redirect_to=outcome.url, message=str(outcome.message), message_level=outcome.level
        )
    return outcome


def submit_once(request: HttpRequest, write: Callable[[], Outcome]) -> HttpResponse:
    """Run `write` for the form's token, or answer as its first submission was answered.

    Raises InvalidFormToken, Contended, or whatever refusal `write` raises; nothing is kept then.
    """
    token = _token_of(request)
    claim = FormSubmission.objects.filter(user=request.user, token=token).first()
    if claim is None:
        try:
            outcome = _claim_and_write(request, token, write)
        except _AlreadyClaimed:
            claim = FormSubmission.objects.get(user=request.user, token=token)
        else:
            messages.add_message(request, outcome.level, outcome.message)
            return redirect(outcome.url)
    if claim.path != request.path:
        raise _unverified()
    messages.add_message(request, claim.message_level, already_done(claim.message))
    return redirect(claim.redirect_to)


def already_done(message: str) -> str:
    """What a form sent again is told: it was carried out the first time, and what that first time said."""
    return _("Already done – this form had been sent before. %(message)s") % {"message": message}


def form_tokens_purge(*, now: datetime.datetime | None = None) -> int:
    """Forget claims older than a token lives: no token that can still be sent refers to them."""
    deleted, _by_model = FormSubmission.objects.filter(created_at__lt=(now or timezone.now()) - MAX_AGE).delete()
    return deleted
