"""Certificates' side of ordering/lifecycle.py, registered in CertificatesConfig.ready()."""

from __future__ import annotations

import datetime

from django.db.models import Q

from ordering.models import AccessOrder, State

from . import selectors
from .forms import CertificateUploadForm, RolloverConfirmForm
from .models import CertificateBundle


class CertificateHooks:
    """Implements ordering.lifecycle.Certificates."""

    def current_bundle(self, order: AccessOrder) -> CertificateBundle | None:
        return selectors.current_bundle(order)

    def rollover_waiting(self) -> Q:
        return selectors.orders_with_rollover_waiting()

    def renewal_due(self, today: datetime.date) -> Q:
        return selectors.orders_due_for_renewal(today)

    def order_section(self, order: AccessOrder) -> dict:
        section = selectors.certificate_section(order)
        pending = section["pending"]
        section.update(
            # On an active access a new chain waits for the account manager: a rollover.
            upload_form=CertificateUploadForm(rollover=order.state == State.ACTIVE),
            rollover_form=RolloverConfirmForm(auto_id="rollover-%s", initial={"bundle": pending.pk})
            if pending
            else None,
        )
        return section
