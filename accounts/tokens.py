"""API tokens: made, found and revoked here, and nowhere else.

A token is `oa_` followed by 40 random URL-safe characters (240 bits). It is stored only as its
SHA-256: with that much entropy a fast hash is enough (a slow password hash guards low-entropy
secrets), and a fast hash lets every API request find its token with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.errors import Invalid, NotPermitted

from .models import ApiToken, User
from .roles import is_catalogue_admin

TOKEN_PREFIX = "oa_"  # noqa: S105  (a marker that says what the secret is, not a secret)
PREFIX_SHOWN = 10  # "oa_" and 7 random characters: enough to tell one's tokens apart, useless to guess
MAX_LIFETIME = timedelta(days=366)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(30)


def token_create(
    *,
    user: User | None,
    name: str,
    scopes: list[str],
    expires_at: datetime,
    kind: str = ApiToken.Kind.PERSONAL,
) -> tuple[ApiToken, str]:
    """Make a token; returns it and its secret, which is never available again."""
    now = timezone.now()
    known = set(ApiToken.Scope.values)
    if not scopes or not set(scopes) <= known:
        raise Invalid(_("Choose at least one scope."), errors={"scopes": _("Choose at least one scope.")})
    if kind == ApiToken.Kind.PERSONAL and ApiToken.Scope.REGISTER in scopes:
        raise NotPermitted(_("Only a gateway token may read the access register."))
    if kind == ApiToken.Kind.GATEWAY and set(scopes) != {ApiToken.Scope.REGISTER}:
        raise Invalid(_("A gateway token may only read the access register."))
    if not now < expires_at <= now + MAX_LIFETIME:
        message = _("A token expires after today and at most a year from now.")
        raise Invalid(message, errors={"expires_at": message})
    key = _new_key()
    with transaction.atomic():
        if kind == ApiToken.Kind.PERSONAL:
            _check_room_for_one_more(user, now)
        token = ApiToken.objects.create(
            kind=kind,
            user=user,
            name=name.strip(),
            prefix=key[:PREFIX_SHOWN],
            key_hash=_digest(key),
            scopes=sorted(set(scopes)),
            expires_at=expires_at,
        )
    return token, key


def _check_room_for_one_more(user: User, now: datetime) -> None:
    """At most API_TOKENS_PER_USER live personal tokens: each has its own rate limit, so more tokens, more requests.

    The user's row is locked first, so two tokens made at once cannot both take the last place.
    """
    User.objects.select_for_update().filter(pk=user.pk).first()
    live = ApiToken.objects.filter(
        user=user, kind=ApiToken.Kind.PERSONAL, revoked_at__isnull=True, expires_at__gt=now
    ).count()
    if live >= settings.API_TOKENS_PER_USER:
        raise Invalid(
            ngettext(
                "You already have %(count)d active API token, the most one user may have. "
                "Revoke it if you no longer use it, then make the new one.",
                "You already have %(count)d active API tokens, the most one user may have. "
                "Revoke a token you no longer use, then make the new one.",
                live,
            )
            % {"count": live}
        )


def token_for_key(key: str, *, now: datetime | None = None) -> ApiToken | None:
    """The live token with this secret, or None (unknown, expired, revoked, or its user deactivated)."""
    if not key.startswith(TOKEN_PREFIX) or len(key) > 100:
        return None
    now = now or timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_digest(key), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if token is None or (token.user is not None and not token.user.is_active):
        return None
    # Written at most once a minute: a busy client must not turn every read into a write.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    """Revoke a token at once; its owner revokes their own, a catalogue admin any (in the admin)."""
    if token.user_id != actor.pk and not is_catalogue_admin(actor):
        raise NotPermitted(_("You can only revoke your own tokens."))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
