"""Login events: failed logins and lockouts go to the security log; a login starts the session clocks."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from core.security import SecurityEvent, security_event

from .sessions import stamp_login


@receiver(user_login_failed)
def log_failed_login(sender, credentials: dict, request=None, **kwargs) -> None:
    if request is not None:  # authenticate() outside a request (a script) is nobody's login attempt
        security_event(request, SecurityEvent.LOGIN_FAILED, username=str(credentials.get("username", ""))[:150])


@receiver(user_locked_out)
def log_lockout(sender, request, username=None, ip_address=None, **kwargs) -> None:
    security_event(request, SecurityEvent.LOCKED_OUT, username=str(username or "")[:150])


@receiver(user_logged_in)
def start_session_clocks(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        stamp_login(request)
