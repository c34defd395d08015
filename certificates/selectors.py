"""Reads about certificates, scoped through the order the user may see."""

import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.roles import is_account_manager, is_support
from ordering.models import OPEN_STATES, AccessOrder
from ordering.selectors import order_for_user

from .models import Certificate, CertificateBundle
from .windows import RENEWAL_WINDOW_DAYS, WATCH_WINDOW_DAYS


def bundles_of(order: AccessOrder) -> QuerySet[CertificateBundle]:
    return order.certificate_bundles.prefetch_related("certificates")


def current_bundle(order: AccessOrder) -> CertificateBundle | None:
    return bundles_of(order).filter(status=CertificateBundle.Status.CURRENT).first()


def bundle_for_user(user, order_pk: int, bundle_pk: int) -> CertificateBundle:
    """The bundle if the user may see its order; otherwise 404."""
    order = order_for_user(user, order_pk)
    bundle = bundles_of(order).filter(pk=bundle_pk).first()
    if bundle is None:
        raise Http404("No such bundle")
    return bundle


def certificate_section(order: AccessOrder) -> dict:
    """What the order page shows about certificates: the chains and the latest attempts."""
    bundles = list(bundles_of(order).exclude(status=CertificateBundle.Status.SUPERSEDED))
    return {
        "current": next((b for b in bundles if b.status == CertificateBundle.Status.CURRENT), None),
        "pending": next((b for b in bundles if b.status == CertificateBundle.Status.PENDING), None),
        "uploads": list(order.certificate_uploads.select_related("uploaded_by")[:5]),
    }


def _end_of_day(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.max))


def orders_with_rollover_waiting() -> Q:
    """Orders (a condition on ordering's AccessOrder) with a new chain waiting for the account manager."""
    return Q(Exists(CertificateBundle.objects.filter(order=OuterRef("pk"), status=CertificateBundle.Status.PENDING)))


def orders_due_for_renewal(today: datetime.date) -> Q:
    """Orders (a condition on AccessOrder) whose certificate in use expires by the last day of the renewal window:
    `today` + RENEWAL_WINDOW_DAYS, that day included."""
    until = _end_of_day(today + datetime.timedelta(days=RENEWAL_WINDOW_DAYS))
    expiring = Certificate.objects.filter(
        bundle__order=OuterRef("pk"),
        bundle__status=CertificateBundle.Status.CURRENT,
        role=Certificate.Role.LEAF,
        not_after__lte=until,
    )
    return Q(Exists(expiring))


def expiring_certificates(
    user, *, within_days: int = WATCH_WINDOW_DAYS, today: datetime.date | None = None
) -> QuerySet[Certificate]:
    """Leaves of current bundles of open or active orders that expire within `within_days`.

    Account managers see their own customers'; support sees all; nobody else sees any.
    """
    today = today or timezone.localdate()
    until = _end_of_day(today + datetime.timedelta(days=within_days))
    qs = Certificate.objects.filter(
        role=Certificate.Role.LEAF,
        bundle__status=CertificateBundle.Status.CURRENT,
        bundle__order__state__in=OPEN_STATES,
        not_after__lte=until,
    ).select_related("bundle__order__customer", "bundle__order__external_system__vendor")
    if is_support(user):
        return qs.order_by("not_after")
    if is_account_manager(user):
        return qs.filter(bundle__order__customer__account_manager=user).order_by("not_after")
    return qs.none()
