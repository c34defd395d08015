"""MitID Erhverv and Entra ID logins through django-allauth's OpenID Connect provider (docs/login.md).

allauth runs the authorization-code flow: state and PKCE (S256) bound to the browser's session,
discovery and the token exchange. Two things are ours:

- `StrictAdapter` checks every ID token's signature against the provider's keys (accounts/oidc.py),
  also when it came straight from the token endpoint, which allauth would accept unsigned;
- `LoginAdapter` (SOCIALACCOUNT_ADAPTER) decides who logged in (ordering/people.py) before allauth logs
  them in, and answers every refusal and every failed login with our own page and a line in the security log.

The login and callback views below replace allauth's own URLs under the names allauth reverses.
"""

from __future__ import annotations

import logging

from allauth.account.internal.decorators import login_not_required
from allauth.account.signals import user_logged_in
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import LoginView, LogoutView
from django.core.cache import cache
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.backends import passwords_for_everyone
from accounts.oidc import (
    CLAIM_PRESETS,
    ClaimPreset,
    ClaimsRefused,
    TokenRefused,
    entra_claims,
    merged,
    mitid_claims,
    verify_id_token,
)
from accounts.sessions import LOGIN_PROOF
from core.security import SecurityEvent, security_event

from . import people
from .people_views import INVITATION_SESSION_KEY

logger = logging.getLogger(__name__)

JWKS_SECONDS = 300  # how long a provider's signing keys are reused before they are fetched again


def claim_preset() -> ClaimPreset:
    preset = CLAIM_PRESETS[settings.MITID_CLAIM_PRESET]
    return ClaimPreset(**{**preset.__dict__, **settings.MITID_CLAIM_OVERRIDES})


class StrictAdapter(OpenIDConnectOAuth2Adapter):
    def _decode_id_token(self, app: SocialApp, id_token: str) -> dict:
        config = self.openid_config
        try:
            return verify_id_token(
                id_token, jwks=self._keys(config["jwks_uri"]), issuer=config["issuer"], audience=app.client_id
            )
        except TokenRefused as refusal:
            raise OAuth2Error(f"id_token refused: {refusal.code}") from refusal

    def _keys(self, url: str) -> dict:
        key = f"oidc-jwks:{url}"
        keys = cache.get(key)
        if keys is None:
            from allauth.socialaccount.adapter import get_adapter

            with get_adapter().get_requests_session() as session:
                response = session.get(url, timeout=10)
                response.raise_for_status()
                keys = response.json()
            cache.set(key, keys, JWKS_SECONDS)
        return keys


def _at_provider(view, request: HttpRequest, provider_id: str) -> HttpResponse:
    """allauth's view for the provider the URL names, with this module's StrictAdapter; 404 for one not configured."""
    try:
        return view.adapter_view(StrictAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist as missing:
        raise Http404("No such login") from missing


@require_POST
@login_not_required
def oidc_login(request: HttpRequest, provider_id: str) -> HttpResponse:
    """Start a login at the provider (a POST from the login page's buttons, with its CSRF token)."""
    return _at_provider(OAuth2LoginView, request, provider_id)


@login_not_required
def oidc_callback(request: HttpRequest, provider_id: str) -> HttpResponse:
    """Where the provider sends the browser back with the code (and state)."""
    return _at_provider(OAuth2CallbackView, request, provider_id)


def refused(request: HttpRequest, code: str, status: int = 403, **details) -> HttpResponse:
    """The page a refused login gets, saying why and what to do; the same code goes to the security log.

    Whoever was logged in in this browser before is logged out: a refused login must not leave the previous
    person's session (and what their login proved) in place at a shared computer."""
    security_event(request, SecurityEvent.LOGIN_REFUSED, reason=code, **details)
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        logout(request)
    return render(request, "registration/login_refused.html", {"code": code, **details}, status=status)


def _minimal(account, claims: dict) -> None:
    """Keep on allauth's record only what identifies the account at the provider (iss, sub): allauth stores the
    whole ID token there before our adapter runs, and the person's claims (CVR, UUID, name, e-mail, level) have
    their one home in LoginIdentity and the session."""
    account.extra_data = {"iss": claims.get("iss", ""), "sub": claims.get("sub", "")}
    if account.pk is not None:
        account.save(update_fields=["extra_data"])


class LoginAdapter(DefaultSocialAccountAdapter):
    def pre_social_login(self, request: HttpRequest, sociallogin) -> None:
        provider_id = sociallogin.account.provider
        data = sociallogin.account.extra_data or {}
        id_token = data.get("id_token") or {}
        claims = merged(id_token, data.get("userinfo"))
        _minimal(sociallogin.account, claims)
        # The invitation link this browser followed before this login: used by this login or by none.
        pending = request.session.pop(INVITATION_SESSION_KEY, None)
        try:
            if not id_token:
                # Without a (signed, checked) ID token the person would be decided by unsigned userinfo.
                raise people.LoginRefused("no_id_token")
            if provider_id == settings.MITID_PROVIDER_ID:
                user, customer, proof = people.customer_person_log_in(mitid_claims(claims, claim_preset()))
                if pending is not None:
                    people.invitation_use(invitation_id=pending, person=user, cvr=customer.cvr)
            elif provider_id == settings.ENTRA_PROVIDER_ID:
                user, proof = people.staff_log_in(entra_claims(claims))
            else:
                raise people.LoginRefused("unknown_provider")
        except ClaimsRefused as refusal:
            raise ImmediateHttpResponse(refused(request, refusal.code, provider=provider_id)) from refusal
        except people.LoginRefused as refusal:
            raise ImmediateHttpResponse(
                refused(request, refusal.code, provider=provider_id, **refusal.details)
            ) from refusal
        account = sociallogin.account
        account.user = user
        if account.pk is None:
            account.save()
        elif account.user_id != user.pk:
            account.save(update_fields=["user"])
        user.backend = "accounts.backends.IdentityProviderBackend"
        sociallogin.user = user
        sociallogin.opus_proof = proof

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None) -> None:
        """State mismatch, a replayed or refused code, a bad ID token, the person cancelling: our page, logged."""
        code = "cancelled" if str(error) == "cancelled" else "failed"
        logger.info("OpenID Connect login failed: %s %s", error, exception)
        raise ImmediateHttpResponse(
            refused(
                request,
                code,
                status=400 if code == "failed" else 200,
                provider=getattr(getattr(provider, "app", None), "provider_id", ""),
                error=str(error),
                detail=str(exception)[:200] if exception else ("state" if "state_id" in (extra_context or {}) else ""),
            )
        )

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return False  # every person is made by pre_social_login, or refused there

    def is_auto_signup_allowed(self, request, sociallogin) -> bool:
        return False


@receiver(user_logged_in)
def keep_the_proof(sender, request, user, sociallogin=None, **kwargs) -> None:
    """After allauth logged the person in (and Django's own signal started the session's clocks): what the
    login proved stays in the session, for an acceptance to record."""
    proof = getattr(sociallogin, "opus_proof", None)
    if proof is not None:
        request.session[LOGIN_PROOF] = proof.as_session()


class LoginPage(LoginView):
    """MitID Erhverv for customers and Entra ID for KMD's staff first; the password form below them for the demo,
    and (outside the demo) folded away for KMD's named break-glass accounts."""

    template_name = "registration/login.html"

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        configured = {app["provider_id"] for app in settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"]}
        context["mitid"] = settings.MITID_PROVIDER_ID in configured
        context["entra"] = settings.ENTRA_PROVIDER_ID in configured
        context["passwords_for_everyone"] = passwords_for_everyone()
        return context


def provider_of(proof: dict) -> str:
    return {"mitid_erhverv": settings.MITID_PROVIDER_ID, "entra_id": settings.ENTRA_PROVIDER_ID}.get(
        proof.get("scheme", ""), ""
    )


def end_session_url(request: HttpRequest, proof: dict) -> str:
    """Where the identity provider ends its own session (OpenID Connect RP-initiated logout), for a login through
    a provider that offers it; "" otherwise. The person then returns to our login page."""
    provider_id = provider_of(proof)
    if not provider_id:
        return ""
    try:
        adapter = StrictAdapter(request, provider_id)
        endpoint = adapter.openid_config.get("end_session_endpoint", "")
        client_id = adapter.get_provider().app.client_id
    except (SocialApp.DoesNotExist, OSError, ValueError) as error:  # requests' errors are OSErrors
        logger.warning("No RP-initiated logout at %s: %s", provider_id, error)
        return ""
    if not endpoint:
        return ""
    back = request.build_absolute_uri(reverse("login"))
    return f"{endpoint}?{urlencode({'client_id': client_id, 'post_logout_redirect_uri': back})}"


class LogoutPage(LogoutView):
    """Logging out here also ends the session at MitID Erhverv's broker or Entra ID, where they offer it, so the
    next person at a shared computer is not logged straight in again."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        end = end_session_url(request, request.session.get(LOGIN_PROOF) or {})
        response = super().post(request, *args, **kwargs)
        messages.info(request, _("You are logged out."))
        return redirect(end) if end else response
