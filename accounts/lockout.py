"""Password lockout (django-axes, AXES_HANDLER): one person's typos lock that person, not the colleagues behind
the same address.

A municipality's staff reach us from one NAT address. Locking a whole address after LOGIN_FAILURE_LIMIT
failures let one person's typos lock out every colleague for a quarter of an hour, so the ordinary lock
is per username *and* address (AXES_LOCKOUT_PARAMETERS). Trying many usernames from one address
(password spraying) still stops: at LOGIN_ADDRESS_FAILURE_LIMIT failures from one address within the
cool-off, across every username, that address is refused too. The second limit is higher because it is
shared by everyone behind the address.
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_ip_address, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone


def address_failures(ip_address: str | None) -> int:
    """Failed password logins from one address within the cool-off, whatever username was tried."""
    if not ip_address:
        return 0
    since = timezone.now() - get_cool_off()
    total = AccessAttempt.objects.filter(ip_address=ip_address, attempt_time__gte=since).aggregate(
        total=Sum("failures_since_start")
    )["total"]
    return total or 0


class LockoutHandler(AxesDatabaseHandler):
    def is_locked(self, request, credentials: dict | None = None) -> bool:
        if super().is_locked(request, credentials):
            return True
        ip_address = getattr(request, "axes_ip_address", None) or get_client_ip_address(request)
        return address_failures(ip_address) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT
