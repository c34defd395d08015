"""Writes about certificates: uploads, rollover confirmation, expiry notices."""

import datetime
import re

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.trail import audit_record
from core.email import build_email
from core.errors import ChangedMeanwhile
from core.transactions import retry_on_conflict
from ordering.models import AccessOrder, State
from ordering.notifications import order_url
from ordering.roles import Role
from ordering.services import enqueue_event_notification, lock_order

from .audit import CertificateAuditKind
from .models import Certificate, CertificateBundle, CertificateUpload, ExpiryNotice
from .selectors import certificate_upload_refusal, leaves_in_use_expiring_by, rollover_confirm_refusal
from .trust import trust_for
from .validation import BundleReport, inspect_bundle
from .windows import EXPIRY_NOTICE_DAYS


def _safe_filename(name: str) -> str:
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip()
    return base[:255] or "upload"


@retry_on_conflict
def certificate_upload(
    *,
    order: AccessOrder,
    actor,
    data: bytes,
    filename: str,
    size: int | None = None,
    at: datetime.datetime | None = None,
) -> tuple[CertificateUpload, BundleReport]:
    """Check an uploaded chain and record the attempt; an accepted chain becomes the order's bundle.

    While the order is a draft the new chain replaces the current one. On an active order it is a
    rollover: it waits for the account manager's confirmation. Only the validated chain is stored,
    re-encoded as PEM (`report.canonical_pem`); of a refused upload only the attempt, its findings and
    size are kept – no bytes and no hash. `report.contains_private_key` says when the upload held a key.
    """
    refusal = certificate_upload_refusal(order, actor)
    if refusal is not None:
        raise refusal
    filename = _safe_filename(filename)
    at = at or timezone.now()
    report = inspect_bundle(
        data,
        filename,
        trust=trust_for(order.environment),
        at=at,
        expected_cvr=order.external_system.vendor.cvr,
    )
    with transaction.atomic():
        locked = lock_order(order)
        upload = CertificateUpload.objects.create(
            order=locked,
            uploaded_by=actor,
            uploaded_at=at,
            environment=locked.environment,
            filename=filename,
            size=size if size is not None else report.size,  # the real size, even if only the cap was read
            sha256=report.sha256,  # of the stored chain; empty for every refused upload
            verdict=CertificateUpload.Verdict.ACCEPTED if report.valid else CertificateUpload.Verdict.REJECTED,
            findings=[{"code": f.code, "severity": f.severity, "da": f.da, "en": f.en} for f in report.findings],
        )
        if report.valid:
            _store_bundle(locked, actor, upload, report, at)
        elif report.contains_private_key:
            # KMD must be able to show who sent key material and when: the certificate should be revoked.
            audit_record(
                kind=CertificateAuditKind.CERTIFICATE_REFUSED_PRIVATE_KEY,
                subject=upload,
                actor=actor,
                role=Role.ORDERER,
                params={"refused_file": filename, "refused_size_bytes": upload.size},
            )
    return upload, report


def _store_bundle(order: AccessOrder, actor, upload: CertificateUpload, report: BundleReport, at) -> None:
    rollover = order.state == State.ACTIVE
    status = CertificateBundle.Status.PENDING if rollover else CertificateBundle.Status.CURRENT
    # A newer upload replaces an earlier one in the same slot (the draft's chain, or a waiting rollover).
    CertificateBundle.objects.filter(order=order, status=status).update(
        status=CertificateBundle.Status.SUPERSEDED, superseded_at=at
    )
    bundle = CertificateBundle.objects.create(
        order=order,
        upload=upload,
        environment=order.environment,
        status=status,
        data=report.canonical_pem,  # never the bytes as uploaded: they may carry what was not validated
        created_at=at,
    )
    Certificate.objects.bulk_create(
        [
            Certificate(
                bundle=bundle,
                position=position,
                role=entry.role,
                pem=entry.pem,
                sha256=entry.sha256,
                subject=entry.subject,
                issuer=entry.issuer,
                serial=entry.serial,
                not_before=entry.not_before,
                not_after=entry.not_after,
                key=entry.key,
                cvr=entry.cvr,
            )
            for position, entry in enumerate(report.chain)
        ]
    )
    leaf = report.leaf
    event = audit_record(
        order=order,
        actor=actor,
        role=Role.ORDERER,
        kind=CertificateAuditKind.CERTIFICATE_ROLLOVER_REQUESTED
        if rollover
        else CertificateAuditKind.CERTIFICATE_UPLOADED,
        # The fingerprint is kept for KMD but not read out in the history (customers see it under the chain's
        # "Details"); the date reads as the reader's language writes it.
        params={
            "certificate_subject": leaf.subject,
            "certificate_sha256": leaf.sha256,
            "certificate_valid_to_on": timezone.localdate(leaf.not_after),
        },
    )
    if rollover:
        enqueue_event_notification(event)


@retry_on_conflict
def certificate_rollover_confirm(*, order: AccessOrder, actor, bundle_id: int | None = None) -> CertificateBundle:
    """The account manager puts the waiting chain into use; the old one is superseded.

    `bundle_id` is the waiting chain the account manager was shown (the page's form sends it): a newer
    upload that replaced it meanwhile is not confirmed unseen.
    """
    with transaction.atomic():
        locked = lock_order(order)
        pending = (
            locked.certificate_bundles.select_for_update(no_key=True)
            .filter(status=CertificateBundle.Status.PENDING)
            .first()
        )
        refusal = rollover_confirm_refusal(locked, actor, pending)
        if refusal is not None:
            raise refusal
        if bundle_id is not None and pending.pk != bundle_id:
            raise ChangedMeanwhile(
                _("Another new certificate chain was uploaded meanwhile. Check it below and confirm again.")
            )
        leaf = pending.leaf
        now = timezone.now()
        locked.certificate_bundles.filter(status=CertificateBundle.Status.CURRENT).update(
            status=CertificateBundle.Status.SUPERSEDED, superseded_at=now, replaced_by=pending
        )
        pending.status = CertificateBundle.Status.CURRENT
        pending.confirmed_by, pending.confirmed_at = actor, now
        pending.save(update_fields=["status", "confirmed_by", "confirmed_at"])
        event = audit_record(
            order=locked,
            actor=actor,
            role=Role.ACCOUNT_MANAGER,
            kind=CertificateAuditKind.CERTIFICATE_ROLLOVER_CONFIRMED,
            params={"certificate_subject": leaf.subject, "certificate_sha256": leaf.sha256},
        )
        enqueue_event_notification(event)
    return pending


def certificate_expiry_notify(*, today: datetime.date | None = None) -> int:
    """E-mail the orderers EXPIRY_NOTICE_DAYS (60, 30, 7) days before a certificate in use expires; each once."""
    today = today or timezone.localdate()
    horizon = timezone.make_aware(
        datetime.datetime.combine(today + datetime.timedelta(days=max(EXPIRY_NOTICE_DAYS)), datetime.time.max)
    )
    leaves = (
        leaves_in_use_expiring_by(horizon)
        .filter(not_after__gte=timezone.now())
        .prefetch_related("bundle__expiry_notices")
    )
    sent = 0
    for leaf in leaves:
        days_left = (timezone.localdate(leaf.not_after) - today).days
        done = {n.threshold_days for n in leaf.bundle.expiry_notices.all()}
        due = [t for t in EXPIRY_NOTICE_DAYS if days_left <= t and t not in done]
        if not due:
            continue
        try:
            with transaction.atomic():
                for threshold in due:
                    ExpiryNotice.objects.create(bundle=leaf.bundle, threshold_days=threshold)
                # Sent inside the transaction: if the mail fails, no notice is recorded and tomorrow tries again.
                sent += _send_expiry_mail(leaf, days_left)
        except IntegrityError:
            continue  # a parallel run got there first
    return sent


def _send_expiry_mail(leaf: Certificate, days_left: int) -> int:
    order = leaf.bundle.order
    recipients = [
        m.user.email
        for m in order.customer.memberships.select_related("user").filter(is_orderer=True, user__is_active=True)
        if m.user.email
    ]
    context = {"order": order, "leaf": leaf, "days_left": days_left, "order_url": order_url(order)}
    for address in recipients:
        build_email("certificates/email/expiry", context, address).send()
    return len(recipients)
