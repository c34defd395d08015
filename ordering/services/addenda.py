"""The addendum document: rendered and stamped through the outbox, generated again on request, recovered
by the sweep."""

import datetime
import hashlib
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.trail import audit_record
from core.errors import NotAllowedNow, NotPermitted
from core.outbox import outbox_enqueue, outbox_handler, outbox_holds
from core.transactions import retry_on_conflict

from .. import documents
from ..audit import AuditKind
from ..models import (
    Addendum,
)
from ..roles import Role, order_roles

logger = logging.getLogger(__name__)


# Outbox handlers (core/outbox.py) for the two documents of a version.
RENDER_ADDENDUM = "ordering.render_addendum"


STAMP_ADDENDUM = "ordering.stamp_addendum"


# A render that fails for want of storage is tried this often (back-off between) before the version shows
# "failed" with "Generate again"; WeasyPrint's own errors are final at once, since trying again changes nothing.
RENDER_ATTEMPTS = 3


def enqueue_addendum_render(addendum: Addendum) -> None:
    _enqueue_document(RENDER_ADDENDUM, addendum)


def enqueue_addendum_stamp(addendum: Addendum) -> None:
    _enqueue_document(STAMP_ADDENDUM, addendum)


def _enqueue_document(handler: str, addendum: Addendum) -> None:
    """Keyed by the version: queued while a message for it waits, it asks that one again."""
    outbox_enqueue(
        handler,
        payload={"addendum_id": addendum.pk},
        key=str(addendum.pk),
        order_id=addendum.order_id,
        subject=addendum.number,
    )


def _render_given_up(message) -> None:
    """The last render attempt failed: show the version as failed, with the reason kept for support."""
    Addendum.objects.filter(
        pk=message.payload["addendum_id"],
        status=Addendum.Status.ISSUED,
        render_status=Addendum.RenderStatus.PENDING,
    ).update(render_status=Addendum.RenderStatus.FAILED, render_error=message.last_error[:500])


@outbox_handler(
    RENDER_ADDENDUM,
    label=gettext_lazy("Generate an addendum document"),
    max_attempts=RENDER_ATTEMPTS,
    on_dead=_render_given_up,
)
def addendum_render(addendum_id: int) -> Addendum:
    """Render an issued version's PDF and store it privately with its hash. Safe to run again.

    A failure is recorded on the version for the account manager to see and retry; the order
    itself is untouched.
    """
    addendum = Addendum.objects.select_related("order").get(pk=addendum_id)
    if addendum.status != Addendum.Status.ISSUED or addendum.render_status == Addendum.RenderStatus.READY:
        return addendum
    try:
        pdf = documents.html_to_pdf(documents.addendum_html(addendum))
    except Exception as error:
        logger.exception(
            "Rendering addendum %s failed",
            addendum_id,
            extra={"order": addendum.order_id, "addendum": addendum_id},
        )
        # What went wrong is kept for support; the page tells the user in their own language.
        Addendum.objects.filter(pk=addendum_id, render_status=Addendum.RenderStatus.PENDING).update(
            render_status=Addendum.RenderStatus.FAILED, render_error=f"{type(error).__name__}: {error}"[:500]
        )
        addendum.refresh_from_db()
        return addendum
    with transaction.atomic():
        locked = Addendum.objects.select_for_update(no_key=True).get(pk=addendum_id)
        if locked.status != Addendum.Status.ISSUED or locked.render_status == Addendum.RenderStatus.READY:
            return locked  # a parallel run finished first
        locked.pdf.save(f"{locked.number}.pdf", ContentFile(pdf), save=False)
        locked.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
        locked.render_status = Addendum.RenderStatus.READY
        locked.render_error = ""
        locked.rendered_at = timezone.now()
        locked.save(update_fields=["pdf", "pdf_sha256", "render_status", "render_error", "rendered_at"])
    return locked


@retry_on_conflict
def addendum_render_again(*, addendum: Addendum, actor) -> Addendum:
    if Role.ACCOUNT_MANAGER not in order_roles(actor, addendum.order):
        raise NotPermitted(_("Only the customer's account manager can generate the document again."))
    with transaction.atomic():
        locked = Addendum.objects.select_for_update(no_key=True).get(pk=addendum.pk)
        failed = locked.render_status == Addendum.RenderStatus.FAILED or locked.render_stalled
        if locked.status != Addendum.Status.ISSUED or not failed:
            raise NotAllowedNow(_("Only a document that failed can be generated again."))
        locked.render_status = Addendum.RenderStatus.PENDING
        locked.render_error = ""
        locked.save(update_fields=["render_status", "render_error"])
        audit_record(
            kind=AuditKind.ADDENDUM_RENDER_AGAIN,
            subject=locked,
            actor=actor,
            role=Role.ACCOUNT_MANAGER,
            comment=locked.number,
        )
        enqueue_addendum_render(locked)
    return locked


@outbox_handler(STAMP_ADDENDUM, label=gettext_lazy("Stamp an accepted addendum"))
def addendum_stamp(addendum_id: int) -> Addendum:
    """Store the final copy of an accepted version, stamped with the acceptance. Runs once."""
    addendum = Addendum.objects.select_related("order").get(pk=addendum_id)
    if addendum.status != Addendum.Status.ACCEPTED or addendum.final_sha256:
        return addendum
    pdf = documents.html_to_pdf(documents.addendum_html(addendum, stamp=True))
    with transaction.atomic():
        locked = Addendum.objects.select_for_update(no_key=True).get(pk=addendum_id)
        if locked.final_sha256:
            return locked
        locked.final_pdf.save(f"{locked.number}-accepteret.pdf", ContentFile(pdf), save=False)
        locked.final_sha256 = hashlib.sha256(pdf).hexdigest()
        locked.save(update_fields=["final_pdf", "final_sha256"])
    return locked


@retry_on_conflict
def _queue_document(handler: str, addendum: Addendum) -> None:
    _enqueue_document(handler, addendum)  # in a transaction of its own


def addendum_documents_recover() -> int:
    """Queue the documents that should exist and that nothing is working on (beat, every sweep).

    The outbox already retries its own messages; this catches versions left without one, such as
    renders lost before the outbox existed: a version "being generated" for too long, or accepted
    without its stamped copy. A document whose message was given up is left to support.
    """
    stalled_after = timezone.now() - datetime.timedelta(seconds=settings.ADDENDUM_RENDER_STALLED_SECONDS)
    candidates = [
        (RENDER_ADDENDUM, a)
        for a in Addendum.objects.select_related("order").filter(
            status=Addendum.Status.ISSUED, render_status=Addendum.RenderStatus.PENDING, issued_at__lt=stalled_after
        )
        if a.render_stalled
    ] + [
        (STAMP_ADDENDUM, a)
        for a in Addendum.objects.select_related("order").filter(
            status=Addendum.Status.ACCEPTED, final_sha256="", decided_at__lt=stalled_after
        )
    ]
    queued = 0
    for handler, addendum in candidates:
        if outbox_holds(handler, key=str(addendum.pk)):
            continue
        _queue_document(handler, addendum)
        logger.warning(
            "Addendum %s had no document under way; queued %s",
            addendum.number,
            handler,
            extra={"order": addendum.order_id, "addendum": addendum.pk},
        )
        queued += 1
    return queued
