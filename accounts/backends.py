"""Passwords, where they remain: everyone in the demo, only KMD's named break-glass accounts in production.

People log in with MitID Erhverv (customers) or Entra ID (KMD's staff). A password is kept for the demo
(`make run`) and for a few named KMD accounts that must work when the identity providers do not
(User.may_use_password). PASSWORD_LOGIN=all lets every user use a password (the default with DJANGO_DEBUG=1);
`manage.py check --deploy` warns when production says so.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from core.prepared import Prepared


def passwords_for_everyone() -> bool:
    return settings.PASSWORD_LOGIN == "all"  # noqa: S105  (a setting's value, not a password)


class _UserBackend(ModelBackend):
    """ModelBackend, whose session's user (every request a logged-in person makes) is read with a query compiled
    once per process (core/prepared.py), not built and compiled anew each time."""

    def get_user(self, user_id):
        user = _USER.first(pk=get_user_model()._meta.pk.to_python(user_id))
        return user if user is not None and self.user_can_authenticate(user) else None


_USER = Prepared(lambda p: get_user_model()._default_manager.filter(pk=p.pk)[:1])


class PasswordBackend(_UserBackend):
    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and (passwords_for_everyone() or user.may_use_password)


class IdentityProviderBackend(_UserBackend):
    """The backend a MitID Erhverv or Entra ID login is recorded with: it keeps the session's user (while
    active) and authenticates nothing itself, so no password ever logs in through it."""

    def authenticate(self, request, **credentials):
        return None
