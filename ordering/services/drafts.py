"""Creating and editing a draft order: the facts it must hold, the interfaces it gives, who may change it."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.trail import audit_record
from core.errors import Invalid, NotAllowedNow, NotPermitted, Refusal
from core.transactions import retry_on_conflict

from ..audit import AuditKind
from ..models import (
    ACCESS_RUNNING_STATES,
    AccessOrder,
    Customer,
    ExternalSystem,
    IntegrationPackage,
    Interface,
    State,
)
from ..roles import Role, customer_roles
from ..validators import typed_text_problem
from .running import lock_order


def _check_order_facts(*, customer: Customer, facts: dict) -> None:
    """Raise Invalid naming every field that is wrong; nothing is written."""
    errors = order_facts_problems(customer=customer, facts=facts)
    if errors:
        raise Invalid(_("The order has errors. Correct the fields marked below."), errors=errors)


def order_facts_problems(*, customer: Customer, facts: dict) -> dict[str, str]:
    """Every field of `facts` that is wrong, with a sentence saying why: the rules saving a draft applies.

    The order form's clean() and its live preview ask it too, so the orderer sees every problem at once and
    the preview never quotes what saving would refuse. Each check below adds the errors of its own fields.
    """
    errors: dict[str, str] = {}
    system: ExternalSystem | None = facts.get("external_system")
    if system is None or (system.owner_id is not None and system.owner_id != customer.pk):
        errors["external_system"] = _("Choose an external system from the list.")
    _check_what_is_bought(facts, system, errors)
    _check_phase_out(facts, errors)
    _check_changed_access(facts, customer, system, errors)
    _check_replaced_access(facts, customer, system, errors)
    _check_startup_package(facts, system, errors)
    if facts.get("environment") not in AccessOrder.Environment.values:
        errors["environment"] = _("Choose the production or the test environment.")
    if facts.get("reason") not in AccessOrder.Reason.values:
        errors["reason"] = _("Choose why the access is ordered.")
    for name, multiline in (("requisition_number", False), ("note", True)):
        limit = AccessOrder._meta.get_field(name).max_length
        problem = typed_text_problem(facts.get(name) or "", max_length=limit, multiline=multiline)
        if problem:
            errors[name] = problem
    return errors


def _check_what_is_bought(facts: dict, system: ExternalSystem | None, errors: dict[str, str]) -> None:
    """A package of the chosen system, or web services picked one by one: never both, never neither."""
    package: IntegrationPackage | None = facts.get("package")
    interfaces: list[Interface] = list(facts.get("interfaces") or [])
    purchase_model = facts.get("purchase_model")
    if purchase_model == AccessOrder.PurchaseModel.PACKAGE:
        if package is None:
            errors["package"] = _("Choose the integration package the system should have access to.")
        elif system is not None and package.external_system_id != system.pk:
            errors["package"] = _("The package “%(package)s” is made for another external system.") % {
                "package": package.name
            }
        if interfaces:
            errors["interfaces"] = _(
                "With an integration package the interfaces come from the package; clear the interfaces you picked."
            )
    elif purchase_model == AccessOrder.PurchaseModel.SINGLE:
        if package is not None:
            errors["package"] = _("A single purchase cannot also name a package.")
        if not interfaces:
            errors["interfaces"] = _("Choose at least one interface the system should have access to.")
        elif any(i.kind != Interface.Kind.WEB_SERVICE for i in interfaces):
            errors["interfaces"] = _("File interfaces are being phased out and cannot be ordered; choose web services.")
    else:
        errors["purchase_model"] = _("Choose single purchase or integration package.")


def _check_phase_out(facts: dict, errors: dict[str, str]) -> None:
    """A phase-out order names the file interface it replaces and includes the web service replacing it."""
    replaces = facts.get("replaces_file_interface")
    if facts.get("reason") != AccessOrder.Reason.PHASE_OUT:
        if replaces is not None:
            errors["replaces_file_interface"] = _("Only a phase-out order replaces a file interface.")
        return
    if replaces is None or replaces.kind != Interface.Kind.FILE:
        errors["replaces_file_interface"] = _(
            "Name the file interface (IND01, IND02, FERIE or FRAVÆR) this order replaces."
        )
        return
    package = facts.get("package")
    ordered = list(package.interfaces.all()) if package is not None else list(facts.get("interfaces") or [])
    problem = phase_out_problem(replaces, ordered)
    if problem:
        errors["package" if facts.get("purchase_model") == AccessOrder.PurchaseModel.PACKAGE else "interfaces"] = (
            problem
        )


def _check_changed_access(facts: dict, customer: Customer, system, errors: dict[str, str]) -> None:
    """A change order names an active access of the same customer, system and environment; no other order does."""
    changes = facts.get("changes_order")
    if facts.get("reason") != AccessOrder.Reason.CHANGE:
        if changes is not None:
            errors["changes_order"] = _("Only a change order names an existing access.")
        return
    if changes is None:
        errors["changes_order"] = _("Choose the active access this order changes.")
    elif (
        changes.customer_id != customer.pk
        or changes.state != State.ACTIVE
        or (system is not None and changes.external_system_id != system.pk)
        or changes.environment != facts.get("environment")
    ):
        errors["changes_order"] = _("A change must concern an active access for the same system and environment.")


def _check_replaced_access(facts: dict, customer: Customer, system, errors: dict[str, str]) -> None:
    """A new integration may replace another system's live access in the same environment, never its own."""
    replaced = facts.get("replaces_order")
    if replaced is None:
        return
    if facts.get("reason") != AccessOrder.Reason.NEW:
        errors["replaces_order"] = _(
            "Only a new integration replaces another system; a change names the access it changes."
        )
    elif (
        replaced.customer_id != customer.pk
        or replaced.state not in ACCESS_RUNNING_STATES
        or replaced.environment != facts.get("environment")
    ):
        errors["replaces_order"] = _("Choose one of your live accesses in the same environment as the one replaced.")
    elif system is not None and replaced.external_system_id == system.pk:
        errors["replaces_order"] = _(
            "%(system)s cannot replace itself. To extend its access, order a change to it instead."
        ) % {"system": system.name}


def _check_startup_package(facts: dict, system, errors: dict[str, str]) -> None:
    """ "Opstartspakken tilkøbes til individuel integration": it comes with the vendor's test access."""
    if not facts.get("startup_package") or system is None or errors.get("interfaces"):
        return
    interfaces = list(facts.get("interfaces") or [])
    if integration_type_for(system, interfaces, facts.get("package")) != AccessOrder.IntegrationType.INDIVIDUAL:
        errors["startup_package"] = _(
            "The startup package is sold for individual integration only, and %(system)s has a standard "
            "integration for these interfaces. Remove the startup package."
        ) % {"system": system.name}
    elif facts.get("environment") != AccessOrder.Environment.TEST:
        errors["startup_package"] = _(
            "The startup package gives the vendor 6 months of access to the external test environment: "
            "order it for the test environment, and order production access from the test access later."
        )


def phase_out_problem(replaces: Interface, interfaces: Iterable[Interface]) -> str | None:
    """A phase-out order must give the system the web service the catalogue names as replacing the file
    interface (Interface.replaced_by, which the catalogue admin maintains); a sentence naming it if not.

    The source: the file interfaces are replaced by new standard interfaces that are web services – e.g.
    IND01 by "Webservice Engangsydelser". With no web service named in the catalogue there is nothing to
    check; the account manager clarifies it when reviewing.
    """
    replacement = replaces.replaced_by
    if replacement is None or replacement.pk in {i.pk for i in interfaces}:
        return None
    return _(
        "%(file)s is replaced by the web service %(web)s: a phase-out order for %(file)s must include %(web)s. "
        "Add %(web)s to the order, or choose another reason."
    ) % {"file": replaces.name, "web": replacement.name}


def integration_type_for(
    system: ExternalSystem, interfaces: Iterable[Interface], package=None, *, agreed: set[int] | None = None
) -> str:
    """Standard integration only when KMD has agreed it for this system and all these interfaces. `agreed`: the ids
    of the system's standard interfaces, when the caller has read them (OrderForm.standard_interface_ids)."""
    if not system.is_standard:
        return AccessOrder.IntegrationType.INDIVIDUAL
    if package is not None:
        return AccessOrder.IntegrationType.STANDARD
    if agreed is None:
        agreed = {i.pk for i in system.standard_interfaces.all()}
    if {i.pk for i in interfaces} <= agreed:
        return AccessOrder.IntegrationType.STANDARD
    return AccessOrder.IntegrationType.INDIVIDUAL


ORDER_FACT_FIELDS = (
    "external_system",
    "purchase_model",
    "package",
    "environment",
    "reason",
    "replaces_file_interface",
    "changes_order",
    "replaces_order",
    "requisition_number",
    "note",
    "startup_package",
)


def _apply_facts(order: AccessOrder, facts: dict) -> list[Interface]:
    for name in ORDER_FACT_FIELDS:
        setattr(order, name, facts.get(name) or ("" if name in ("requisition_number", "note") else None))
    order.startup_package = bool(facts.get("startup_package"))
    interfaces = list(facts.get("interfaces") or [])
    order.integration_type = integration_type_for(order.external_system, interfaces, order.package)
    return interfaces


@retry_on_conflict
def order_create(*, actor, customer: Customer, facts: dict) -> AccessOrder:
    if Role.ORDERER not in customer_roles(actor, customer.pk):
        raise NotPermitted(_("Only an orderer at %(customer)s can create orders for it.") % {"customer": customer.name})
    _check_order_facts(customer=customer, facts=facts)
    with transaction.atomic():
        order = _save_draft(AccessOrder(customer=customer, created_by=actor), actor, facts)
    return order


def _save_draft(order: AccessOrder, actor, facts: dict, *, comment: str = "") -> AccessOrder:
    """Save a draft with `facts`, new or changed, and record the orderer creating it (from no state) or
    editing it. The caller has checked the facts, and locked an existing order."""
    new = order.pk is None
    interfaces = _apply_facts(order, facts)
    _confirm_vendor_agreement(order, actor, bool(facts.get("vendor_agreement_confirmed")))
    order.save()
    order.interfaces.set(interfaces)
    kind, from_state = (AuditKind.CREATE, "") if new else (AuditKind.EDIT, None)
    audit_record(order=order, actor=actor, role=Role.ORDERER, kind=kind, from_state=from_state, comment=comment)
    return order


def draft_edit_refusal(*, order: AccessOrder, actor) -> Refusal | None:
    """Why `actor` may not change `order`'s facts, or None when they may: an orderer at its customer, a draft.

    `order_update_draft` raises it under its lock; the order page, the edit page and the API ask it first,
    so that they offer no editor, and answer "not permitted" or "not now" before they read what was sent.
    """
    if Role.ORDERER not in customer_roles(actor, order.customer_id):
        return NotPermitted(_("Only an orderer at the customer can change this order."))
    if order.state != State.DRAFT:
        return NotAllowedNow(
            _("Only a draft can be changed. This order is “%(state)s”.") % {"state": order.get_state_display()}
        )
    return None


@retry_on_conflict
def order_update_draft(*, order: AccessOrder, actor, facts: dict) -> AccessOrder:
    with transaction.atomic():
        locked = lock_order(order)
        refusal = draft_edit_refusal(order=locked, actor=actor)
        if refusal is not None:
            raise refusal
        _check_order_facts(customer=locked.customer, facts=facts)
        _save_draft(locked, actor, facts)
    return locked


def _confirm_vendor_agreement(order: AccessOrder, actor, confirmed: bool) -> None:
    """Record who confirmed the agreement with the vendor, and when; the first confirmation stands.
    Unticking it on a draft takes it back."""
    if not confirmed:
        order.vendor_agreement_confirmed_by = order.vendor_agreement_confirmed_at = None
    elif order.vendor_agreement_confirmed_at is None:
        order.vendor_agreement_confirmed_by, order.vendor_agreement_confirmed_at = actor, timezone.now()
