from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import Refusal
from core.form_tokens import Outcome, submit_once
from core.http import show_refusal, submit_or_refuse

from .forms import ApiTokenForm
from .models import ApiToken
from .sessions import stamp_activity
from .tokens import personal_token_for_user, personal_tokens_of, token_create, token_revoke


def locked_out(request: HttpRequest, original_response: HttpResponse | None = None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the page a locked-out login gets, saying for how long and what to do."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """The user's own page: who they are, and their API tokens (made here, shown once, revoked here)."""
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        made: dict = {}

        def create() -> Outcome:
            made["token"], made["secret"] = token_create(
                user=request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                last_day=form.cleaned_data["last_day"],
                actor=request.user,
            )
            return Outcome(reverse("accounts:profile"), _("The API token was made."))

        try:
            response = submit_once(request, create)
        except Refusal as refusal:
            show_refusal(request, refusal, form=form, action="api_token_create")
        else:
            # `made` may hold a token of an attempt rolled back (a deadlock) before another request claimed the form.
            if not made or not ApiToken.objects.filter(pk=made["token"].pk).exists():
                # The form was sent before (a double click, a reload): that made the token and showed its secret.
                messages.info(
                    request,
                    _(
                        "This form was sent before, and the token was made then. Its secret was shown once, at "
                        "that time, and cannot be shown again. If you did not copy it, revoke the token and make "
                        "a new one."
                    ),
                )
                return response
            # The secret is in this answer and nowhere else: not in the session, not behind a second address.
            # It is not cached either: PrivateCacheMiddleware makes a logged-in user's answer "no-store".
            return render(request, "accounts/token_created.html", made)
    tokens = personal_tokens_of(request.user)
    return render(
        request,
        "accounts/profile.html",
        {"form": form, "tokens": tokens, "api_docs": reverse("api:docs"), "now": timezone.now()},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Asks first (GET), revokes on the confirmation (POST): programs using it are refused at once."""
    token = personal_token_for_user(request.user, pk)
    if request.method == "POST":

        def revoke() -> Outcome:
            token_revoke(token=token, actor=request.user)
            return Outcome(
                reverse("accounts:profile"),
                _("The token “%(name)s” was revoked; programs using it are refused from now on.")
                % {"name": token.name},
            )

        return submit_or_refuse(request, revoke, refused=reverse("accounts:profile"), action="api_token_revoke")
    return render(request, "accounts/token_revoke.html", {"token": token})


@login_required
@require_POST
def session_extend(request: HttpRequest) -> HttpResponse:
    """ "Forlæng" in the dialog before the idle logout: the idle time starts again now (an already ended
    session was sent to the login page by SessionLifetimeMiddleware before reaching here)."""
    stamp_activity(request)
    return HttpResponse(status=204)
