"""The clarification of an individual integration's access rights: which interfaces, which data, which certificate.

The source: "Ved individuel integration skal der desuden indgås i en afklaringsproces om brugen af certifikater
og adgangsrettigheder i forhold til det eksterne systems tilgang til KMD Opus Personale." The account manager
records the outcome on the submitted order; the addendum prints it in a section of its own and cannot be issued
without it (ordering/services/transitions.py, `_check_addendum_issuable`).

A module of its own beside ordering/services/: one write and its form, built on the services' locking.
"""

from __future__ import annotations

from django import forms
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.trail import audit_record
from core.errors import NotAllowedNow, NotPermitted
from core.transactions import retry_on_conflict

from . import lifecycle
from .audit import AuditKind
from .models import TEXT_MAX_LENGTH, AccessClarification, AccessOrder, Interface, State
from .roles import Role, order_roles
from .services import Invalid, lock_order
from .validators import typed_text_problem, validate_multiline_text


def clarification_offered(order: AccessOrder, roles: set) -> bool:
    """The form is the order's account manager's, on a submitted individual-integration order."""
    return (
        order.integration_type == AccessOrder.IntegrationType.INDIVIDUAL
        and order.state == State.SUBMITTED
        and Role.ACCOUNT_MANAGER in roles
    )


class AccessClarificationForm(forms.Form):
    interfaces = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Interfaces the system's certificate gets access rights to"),
        queryset=Interface.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose the interfaces the certificate gets access rights to.")},
    )
    data_scope = forms.CharField(
        label=gettext_lazy("Data the system may reach"),
        help_text=gettext_lazy(
            "Whose data and which data, e.g. all employees of the administration, or only absence and quotas."
        ),
        max_length=TEXT_MAX_LENGTH,
        validators=[validate_multiline_text],
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": gettext_lazy("Say which data the system may reach.")},
    )
    certificate_confirmed = forms.BooleanField(
        label=gettext_lazy("The system uses the certificate shown above for these interfaces."),
        error_messages={"required": gettext_lazy("Confirm the certificate the access rights are given to.")},
    )

    def __init__(self, data=None, *, order: AccessOrder, interfaces: list[Interface], clarification=None) -> None:
        initial = {"interfaces": [i.pk for i in interfaces]}
        if clarification is not None:
            initial = {
                "interfaces": [i.pk for i in clarification.interfaces.all()],
                "data_scope": clarification.data_scope,
            }
        super().__init__(data, initial=initial, auto_id="clarification-%s")
        self.fields["interfaces"].queryset = Interface.objects.filter(pk__in=[i.pk for i in interfaces])


@retry_on_conflict
def access_clarification_record(
    *, order: AccessOrder, actor, interfaces: list[Interface], data_scope: str
) -> AccessClarification:
    """Record (or record again) the clarification for a submitted individual-integration order, pinning the
    certificate the order uses now. Only the order's account manager may; the audit trail keeps each one."""
    data_scope = (data_scope or "").strip()
    with transaction.atomic():
        locked = lock_order(order)
        if Role.ACCOUNT_MANAGER not in order_roles(actor, locked):
            raise NotPermitted(
                _("Only the customer's account manager at KMD records the clarification of access rights.")
            )
        if locked.integration_type != AccessOrder.IntegrationType.INDIVIDUAL:
            raise NotAllowedNow(
                _("A standard integration needs no clarification of access rights: KMD and the vendor agreed it.")
            )
        if locked.state != State.SUBMITTED:
            raise NotAllowedNow(
                _("The clarification of access rights is recorded while the order is submitted, before the addendum.")
            )
        problem = typed_text_problem(data_scope, max_length=TEXT_MAX_LENGTH, multiline=True)
        if not data_scope or problem:
            message = problem or _("Say which data the system may reach.")
            raise Invalid(message, errors={"data_scope": message})
        requested = {i.pk for i in locked.requested_interfaces()}
        chosen = [i for i in interfaces if i.pk in requested]
        if not chosen or len(chosen) != len(interfaces):
            message = _("Choose among the interfaces the order names.")
            raise Invalid(message, errors={"interfaces": message})
        bundle = lifecycle.certificates().current_bundle(locked)
        leaf = bundle.leaf if bundle is not None else None
        if leaf is None:
            raise NotAllowedNow(
                _("The order has no certificate in use. The orderer uploads it before KMD clarifies access rights.")
            )
        clarification, _created = AccessClarification.objects.update_or_create(
            order=locked,
            defaults={
                "data_scope": data_scope,
                "certificate_sha256": leaf.sha256,
                "certificate_subject": leaf.subject,
                "recorded_by": actor,
                "recorded_at": timezone.now(),
            },
        )
        clarification.interfaces.set(chosen)
        # The comment is what the account manager typed; the interfaces and the certificate are on the record.
        audit_record(
            kind=AuditKind.ACCESS_CLARIFIED,
            subject=clarification,
            actor=actor,
            role=Role.ACCOUNT_MANAGER,
            comment=data_scope,
        )
    return clarification
