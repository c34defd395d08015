"""Reads about certificates, scoped through the order the user may see."""

import datetime

from django.db.models import Exists, Expression, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import is_account_manager, is_support
from core.errors import NotAllowedNow, NotPermitted, Refusal
from core.prepared import Prepared, attach
from ordering.models import OPEN_STATES, AccessOrder, State
from ordering.roles import Role, order_roles
from ordering.selectors import order_for_user

from .models import Certificate, CertificateBundle, CertificateUpload
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


# --- Who may do what with an order's certificate, now: one rule per action (#20, part 3) -------------
# The order page asks them (to offer the form), the API (to answer before reading an upload) and the
# services (to refuse, under the order's lock): tests/ordering/test_one_rule_per_action.py.


def certificate_upload_refusal(order: AccessOrder, user) -> Refusal | None:
    """Why `user` may not upload a certificate chain for `order` now, or None when they may.

    An orderer at the customer, an individual integration, and a draft (the chain replaces the draft's) or an
    active access (a rollover: the chain waits for the account manager's confirmation).
    """
    if Role.ORDERER not in order_roles(user, order):
        return NotPermitted(_("Only an orderer at the customer can upload certificates for this order."))
    if order.integration_type != AccessOrder.IntegrationType.INDIVIDUAL:
        return NotAllowedNow(
            _("This is a standard integration: KMD and the vendor have already agreed the certificate.")
        )
    if order.state not in (State.DRAFT, State.ACTIVE):
        return NotAllowedNow(
            _("The certificate can be changed while the order is a draft, or once access is established.")
        )
    return None


def rollover_confirm_refusal(order: AccessOrder, user, pending: CertificateBundle | None) -> Refusal | None:
    """Why `user` may not put the waiting chain `pending` (None: none waits) into use on `order`, or None.

    The customer's account manager, on an active access, a chain waiting whose certificate has not expired.
    """
    if Role.ACCOUNT_MANAGER not in order_roles(user, order):
        return NotPermitted(_("Only the customer's account manager can confirm a new certificate."))
    if order.state != State.ACTIVE:
        return NotAllowedNow(_("A new certificate can only be put into use on an active access."))
    if pending is None:
        return NotAllowedNow(_("No new certificate is waiting for confirmation."))
    leaf = pending.leaf
    if leaf is None or leaf.not_after <= timezone.now():
        return NotAllowedNow(_("The new certificate has expired meanwhile; ask the customer to upload a valid one."))
    return None


def certificate_section(order: AccessOrder) -> dict:
    """What the order page shows about certificates: the chains and the latest attempts.

    Three queries compiled once per process (core/prepared.py), as the order page asks them every time: the chains
    in use and waiting, their certificates (kept as prefetch_related keeps them), the latest uploads."""
    bundles = _SHOWN_BUNDLES.all(order=order.pk)
    certificates: dict[int, list[Certificate]] = {bundle.pk: [] for bundle in bundles}
    if bundles:
        for certificate in _SHOWN_CERTIFICATES.all(order=order.pk):
            # A chain uploaded between the two reads is not shown yet: its certificates wait for the next page.
            if certificate.bundle_id in certificates:
                certificates[certificate.bundle_id].append(certificate)
    for bundle in bundles:
        attach(bundle, "certificates", certificates[bundle.pk])
    return {
        "current": next((b for b in bundles if b.status == CertificateBundle.Status.CURRENT), None),
        "pending": next((b for b in bundles if b.status == CertificateBundle.Status.PENDING), None),
        "uploads": _LATEST_UPLOADS.all(order=order.pk),
    }


_SHOWN_BUNDLES = Prepared(
    lambda p: CertificateBundle.objects.filter(order_id=p.order).exclude(status=CertificateBundle.Status.SUPERSEDED)
)
_SHOWN_CERTIFICATES = Prepared(
    lambda p: Certificate.objects.filter(bundle__order_id=p.order).exclude(
        bundle__status=CertificateBundle.Status.SUPERSEDED
    )
)
_LATEST_UPLOADS = Prepared(
    lambda p: CertificateUpload.objects.filter(order_id=p.order).select_related("uploaded_by")[:5]
)


def leaves_in_use_expiring_by(until: datetime.datetime) -> QuerySet[Certificate]:
    """The certificates in use (leaves of current chains) of open or active orders that expire by `until`, with
    their order, customer and system: KMD's expiring list and the orderers' expiry notices
    (services.certificate_expiry_notify)."""
    return Certificate.objects.filter(
        role=Certificate.Role.LEAF,
        bundle__status=CertificateBundle.Status.CURRENT,
        bundle__order__state__in=OPEN_STATES,
        not_after__lte=until,
    ).select_related("bundle__order__customer", "bundle__order__external_system__vendor")


def _end_of_day(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.max))


def orders_with_rollover_waiting(now: datetime.datetime | Expression) -> Q:
    """Orders (a condition on ordering's AccessOrder) with a new chain waiting for the account manager, that they
    can still put into use at `now`: one whose certificate has expired meanwhile waits for nobody but the orderer,
    who uploads a valid one (rollover_confirm_refusal). `now` may be a prepared query's slot (core/prepared.py)."""
    live = Certificate.objects.filter(bundle=OuterRef("pk"), role=Certificate.Role.LEAF, not_after__gt=now)
    pending = CertificateBundle.objects.filter(status=CertificateBundle.Status.PENDING).filter(Exists(live))
    # `pk IN (…)`, not a per-order EXISTS: the database finds the few pending chains once, whatever the orders.
    return Q(pk__in=pending.values("order_id"))


def renewal_window_end(today: datetime.date) -> datetime.datetime:
    """The last moment of the renewal window as it stands on `today`: `today` + RENEWAL_WINDOW_DAYS, that day
    included."""
    return _end_of_day(today + datetime.timedelta(days=RENEWAL_WINDOW_DAYS))


def orders_due_for_renewal(until: datetime.datetime | Expression) -> Q:
    """Orders (a condition on AccessOrder) whose certificate in use expires by `until`, the renewal window's end
    (renewal_window_end; or a prepared query's slot for it)."""
    expiring = Certificate.objects.filter(
        bundle__status=CertificateBundle.Status.CURRENT, role=Certificate.Role.LEAF, not_after__lte=until
    )
    # `pk IN (…)` over the indexed expiry date, not a per-order EXISTS (the menu's count asks it on every page).
    return Q(pk__in=expiring.values("bundle__order_id"))


def expiring_certificates(
    user, *, within_days: int = WATCH_WINDOW_DAYS, today: datetime.date | None = None
) -> QuerySet[Certificate]:
    """Leaves of current bundles of open or active orders that expire within `within_days`.

    Account managers see their own customers'; support sees all; nobody else sees any.
    """
    today = today or timezone.localdate()
    until = _end_of_day(today + datetime.timedelta(days=within_days))
    # The list shows names and dates: not each certificate's PEM nor its whole chain as uploaded.
    qs = leaves_in_use_expiring_by(until).defer("pem", "issuer", "bundle__data")
    if is_support(user):
        return qs.order_by("not_after")
    if is_account_manager(user):
        return qs.filter(bundle__order__customer__account_manager=user).order_by("not_after")
    return qs.none()
