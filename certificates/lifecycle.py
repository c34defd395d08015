"""Certificates' side of ordering/lifecycle.py, registered in CertificatesConfig.ready()."""

from __future__ import annotations

import datetime

from django.db.models import Expression, Q

from core.errors import NotAllowedNow
from ordering.models import AccessOrder, State

from . import selectors
from .forms import CertificateUploadForm, RolloverConfirmForm
from .models import CertificateBundle


class CertificateHooks:
    """Implements ordering.lifecycle.Certificates."""

    def current_bundle(self, order: AccessOrder) -> CertificateBundle | None:
        return selectors.current_bundle(order)

    def rollover_waiting(self, now: datetime.datetime | Expression) -> Q:
        return selectors.orders_with_rollover_waiting(now)

    def renewal_window_end(self, today: datetime.date) -> datetime.datetime:
        return selectors.renewal_window_end(today)

    def renewal_due(self, until: datetime.datetime | Expression) -> Q:
        return selectors.orders_due_for_renewal(until)

    def order_section(self, order: AccessOrder, user) -> dict:
        section = selectors.certificate_section(order)
        pending = section["pending"]
        # Each form only when its rule allows it (selectors.certificate_upload_refusal, rollover_confirm_refusal).
        upload_refused = selectors.certificate_upload_refusal(order, user)
        rollover_refused = selectors.rollover_confirm_refusal(order, user, pending)
        section.update(
            # On an active access a new chain waits for the account manager: a rollover.
            upload_form=CertificateUploadForm(rollover=order.state == State.ACTIVE) if upload_refused is None else None,
            rollover_form=RolloverConfirmForm(auto_id="rollover-%s", initial={"bundle": pending.pk})
            if rollover_refused is None
            else None,
            # Why the account manager cannot put the waiting chain into use (its role passed: not NotPermitted).
            rollover_refusal=rollover_refused
            if pending is not None and isinstance(rollover_refused, NotAllowedNow)
            else None,
        )
        return section
