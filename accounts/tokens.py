"""API tokens: made, found and revoked here, and nowhere else.

A token is `oa_` followed by 40 random URL-safe characters (240 bits). It is stored only as its
SHA-256: with that much entropy a fast hash is enough (a slow password hash guards low-entropy
secrets), and a fast hash lets every API request find its token with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.trail import audit_record
from core.errors import Invalid, NotPermitted
from core.security import SecurityEvent, security_event_by
from core.transactions import retry_on_conflict

from .audit import JOB_CREATE_GATEWAY_TOKEN, AccountAuditKind
from .models import ApiToken, User
from .roles import is_catalogue_admin

TOKEN_PREFIX = "oa_"  # noqa: S105  (a marker that says what the secret is, not a secret)
PREFIX_SHOWN = 10  # "oa_" and 7 random characters: enough to tell one's tokens apart, useless to guess
LONGEST_DAYS = 365  # the last day a token may work through: at most this many days after today


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(30)


def last_day_problem(last_day: date, today: date) -> str | None:
    """Why a token may not work through `last_day`, or None: from today through a year from today, in days.

    Days, not hours: the profile's form and the services count alike whatever the clock does (summer time).
    """
    if not today <= last_day <= today + timedelta(days=LONGEST_DAYS):
        return _("A token expires after today and at most a year from now.")
    return None


def expires_at_for(last_day: date) -> datetime:
    """A token works through its last day, Copenhagen time: it expires at the midnight after it."""
    return timezone.make_aware(datetime.combine(last_day + timedelta(days=1), time.min))


@retry_on_conflict
def token_create(
    *,
    user: User | None,
    name: str,
    scopes: list[str],
    last_day: date,
    actor: User | None,
    kind: str = ApiToken.Kind.PERSONAL,
) -> tuple[ApiToken, str]:
    """Make a token working through `last_day`; returns it and its secret, which is never available again.

    `actor` is who made it (its user on the profile page; None for `manage.py create_gateway_token`).
    """
    now = timezone.now()
    known = set(ApiToken.Scope.values)
    if not scopes or not set(scopes) <= known:
        raise Invalid(_("Choose at least one scope."), errors={"scopes": _("Choose at least one scope.")})
    if kind == ApiToken.Kind.PERSONAL and ApiToken.Scope.REGISTER in scopes:
        raise NotPermitted(_("Only a gateway token may read the access register."))
    if kind == ApiToken.Kind.GATEWAY and set(scopes) != {ApiToken.Scope.REGISTER}:
        raise Invalid(_("A gateway token may only read the access register."))
    problem = last_day_problem(last_day, timezone.localdate(now))
    if problem:
        raise Invalid(problem, errors={"last_day": problem})
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
            expires_at=expires_at_for(last_day),
        )
        _record(SecurityEvent.API_TOKEN_CREATED, token, actor)
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


def personal_tokens_of(user: User) -> QuerySet[ApiToken]:
    """The user's own personal tokens, newest first: the profile lists these, and only these are theirs to revoke."""
    return ApiToken.objects.filter(user=user, kind=ApiToken.Kind.PERSONAL).order_by("-created_at", "-pk")


def personal_token_for_user(user: User, pk: int) -> ApiToken:
    """One of the user's own personal tokens, or 404: another's token is answered as one that does not exist."""
    token = personal_tokens_of(user).filter(pk=pk).first()
    if token is None:
        raise Http404("No such token")
    return token


@retry_on_conflict
def token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    """Revoke a token at once; its owner revokes their own, a catalogue admin any (in the admin)."""
    with transaction.atomic():
        may_revoke = ApiToken.objects.all() if is_catalogue_admin(actor) else personal_tokens_of(actor)
        locked = may_revoke.select_for_update().filter(pk=token.pk).first()
        if locked is None:
            raise NotPermitted(_("You can only revoke your own tokens."))
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.revoked_by = actor
            locked.save(update_fields=["revoked_at", "revoked_by"])
            _record(SecurityEvent.API_TOKEN_REVOKED, locked, actor)
    token.revoked_at, token.revoked_by = locked.revoked_at, locked.revoked_by
    return token


def _record(event: SecurityEvent, token: ApiToken, actor: User | None) -> None:
    """The audit trail's event, in the change's transaction, and the security log's line once it is committed:
    the token's id, prefix and kind, never its secret."""
    kind = {
        SecurityEvent.API_TOKEN_CREATED: AccountAuditKind.API_TOKEN_CREATED,
        SecurityEvent.API_TOKEN_REVOKED: AccountAuditKind.API_TOKEN_REVOKED,
    }[event]
    audit_record(
        kind=kind,
        actor=actor,
        job="" if actor is not None else JOB_CREATE_GATEWAY_TOKEN,
        subject=token,
        params={"token_prefix": token.prefix, "token_kind": token.kind},
    )
    transaction.on_commit(
        lambda: security_event_by(actor, event, token=token.pk, token_prefix=token.prefix, kind=token.kind)
    )
