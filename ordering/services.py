"""Every write to orders: one function per action (STYLE.md practice 1).

Each transition locks the order row, re-checks its state and the actor's role, runs the FSM
transition, saves the changed fields, appends the audit event in the same transaction and
schedules the e-mail for after commit.

Locks. Every write takes its row locks in one order, and never an earlier one after a later one
(it may skip levels):

1. the claim of the form token that caused it (core/form_tokens.py), if a form did;
2. the customer – `lock_order` takes it before the order, because submitting, activating and
   closing check rules across the customer's orders (overlapping open orders, shared licences);
3. the order (`lock_order`);
4. other rows of that order or customer: addenda, certificate bundles, fees and licences, the
   startup package, the older order a change replaces;
5. the audit head (`audit_record`), last: it makes every write in the system take turns.

Outbox messages (core/outbox.py) are inserted after that and lock nothing that exists; delivering
one claims its row in a transaction of its own before the handler takes any lock above.

Creating an order takes no lock. The billing run's row is a root of its own, held by the run.
Locks are `select_for_update(no_key=True, of=("self",))`: only the rows named (a plain FOR UPDATE
also locks every joined row), and as FOR NO KEY UPDATE. That matters because PostgreSQL checks the
foreign keys of a transaction's inserts at commit (Django makes them DEFERRABLE INITIALLY DEFERRED),
taking FOR KEY SHARE on each customer, order and user they name – after the audit head. FOR NO KEY
UPDATE lets those checks pass; FOR UPDATE made them wait on a writer that itself waited for the
audit head: the deadlock between creating drafts and moving orders. Should PostgreSQL still break a
deadlock, every write service is `@retry_on_conflict` (core/transactions.py): the whole transaction
runs again.
"""

import datetime
import hashlib
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.backends import passwords_for_everyone
from accounts.models import LoginIdentity
from accounts.oidc import Assurance
from audit.trail import audit_record
from core.errors import ChangedMeanwhile, Invalid, NotAllowedNow, NotPermitted, Refusal
from core.outbox import outbox_enqueue, outbox_handler, outbox_holds
from core.transactions import retry_on_conflict

from . import audit as ordering_audit
from . import documents, lifecycle, people, transitions
from .audit import AuditKind
from .models import (
    ABANDONED_STATES,
    ACCESS_AGREED_STATES,
    ACCESS_RUNNING_STATES,
    CLOSED_STATES,
    OPEN_STATES,
    TEXT_MAX_LENGTH,
    AccessClarification,
    AccessOrder,
    Addendum,
    Customer,
    ExternalSystem,
    IntegrationPackage,
    Interface,
    State,
    TestAccess,
    Vendor,
    order_reference,
)
from .notifications import NOTIFY_EVENT, RECIPIENTS
from .roles import Role, customer_roles, order_roles
from .validators import typed_text_problem, validate_cvr

logger = logging.getLogger(__name__)


# Refusals are the shared kinds (core/errors.py): NotPermitted, NotAllowedNow, ChangedMeanwhile and
# Invalid, importable from here too; InvalidOrder is the name ordering's callers know for Invalid.
InvalidOrder = Invalid


# --- A customer's own external systems ----------------------------------------------------------


def _system_problems(
    *, name: str, vendor_name: str, vendor_cvr: str, vendor_email: str, category: str, description: str
) -> dict:
    errors: dict[str, str] = {}
    for field, value, limit, multiline in (
        ("name", name, ExternalSystem._meta.get_field("name").max_length, False),
        ("vendor_name", vendor_name, Vendor._meta.get_field("name").max_length, False),
        ("description", description, TEXT_MAX_LENGTH, True),
    ):
        problem = typed_text_problem(value, max_length=limit, multiline=multiline)
        if problem:
            errors[field] = problem
    if not name:
        errors["name"] = _("Type the system's name.")
    if not vendor_name:
        errors["vendor_name"] = _("Type the vendor's name.")
    try:
        validate_cvr(vendor_cvr)
    except ValidationError as error:
        errors["vendor_cvr"] = " ".join(error.messages)
    if vendor_email:
        try:
            validate_email(vendor_email)
        except ValidationError:
            errors["vendor_email"] = _("Type the vendor contact's e-mail address, for example it@leverandoer.dk.")
    if category not in ExternalSystem.Category.values:
        errors["category"] = _("Choose the category that fits the system best, or “Other”.")
    return errors


@retry_on_conflict
def external_system_register(
    *,
    actor,
    customer: Customer,
    name: str,
    vendor_name: str,
    vendor_cvr: str,
    vendor_email: str = "",
    category: str,
    description: str = "",
) -> ExternalSystem:
    """An orderer registers a system KMD's catalogue does not list ("individuelt udviklede eller mindre
    udbredte systemer"). It belongs to the customer, is seen only by it and KMD, and is never a standard
    system, so every order for it is individual integration."""
    if Role.ORDERER not in customer_roles(actor, customer.pk):
        raise NotPermitted(
            _("Only an orderer at %(customer)s can register systems for it.") % {"customer": customer.name}
        )
    name, vendor_name, vendor_cvr = name.strip(), vendor_name.strip(), vendor_cvr.strip().replace(" ", "")
    vendor_email, description = vendor_email.strip(), description.strip()
    errors = _system_problems(
        name=name,
        vendor_name=vendor_name,
        vendor_cvr=vendor_cvr,
        vendor_email=vendor_email,
        category=category,
        description=description,
    )
    if errors:
        raise InvalidOrder(_("The system has errors. Correct the fields marked below."), errors=errors)
    with transaction.atomic():
        Customer.objects.select_for_update(no_key=True).only("pk").get(pk=customer.pk)
        if ExternalSystem.objects.filter(owner=customer, name__iexact=name).exists():
            message = _("%(customer)s has already registered a system called “%(name)s”. Choose it in the order form.")
            message %= {"customer": customer.name, "name": name}
            raise InvalidOrder(message, errors={"name": message})
        # The customer's own record of the vendor, so what it types never changes KMD's catalogue or
        # what another customer sees; a later registration naming the same CVR updates it.
        vendor, _created = Vendor.objects.update_or_create(
            owner=customer, cvr=vendor_cvr, defaults={"name": vendor_name, "contact_email": vendor_email}
        )
        system = ExternalSystem.objects.create(
            name=name, vendor=vendor, category=category, description=description, owner=customer, is_standard=False
        )
        audit_record(
            kind=AuditKind.SYSTEM_REGISTERED,
            subject=system,
            actor=actor,
            role=Role.ORDERER,
            comment=f"{customer.name}: {system.name} ({vendor.name}, CVR {vendor.cvr})",
        )
    return system


# --- Creating and editing drafts ---------------------------------------------------------------


def _check_order_facts(*, customer: Customer, facts: dict) -> None:
    """Raise InvalidOrder naming every field that is wrong; nothing is written."""
    errors: dict[str, str] = {}
    system: ExternalSystem | None = facts.get("external_system")
    package: IntegrationPackage | None = facts.get("package")
    interfaces: list[Interface] = list(facts.get("interfaces") or [])
    purchase_model = facts.get("purchase_model")
    reason = facts.get("reason")

    if system is None or (system.owner_id is not None and system.owner_id != customer.pk):
        errors["external_system"] = _("Choose an external system from the list.")
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

    replaces = facts.get("replaces_file_interface")
    if reason == AccessOrder.Reason.PHASE_OUT:
        if replaces is None or replaces.kind != Interface.Kind.FILE:
            errors["replaces_file_interface"] = _(
                "Name the file interface (IND01, IND02, FERIE or FRAVÆR) this order replaces."
            )
        else:
            ordered = list(package.interfaces.all()) if package is not None else interfaces
            problem = phase_out_problem(replaces, ordered)
            if problem:
                errors["package" if purchase_model == AccessOrder.PurchaseModel.PACKAGE else "interfaces"] = problem
    elif replaces is not None:
        errors["replaces_file_interface"] = _("Only a phase-out order replaces a file interface.")

    changes = facts.get("changes_order")
    if reason == AccessOrder.Reason.CHANGE:
        if changes is None:
            errors["changes_order"] = _("Choose the active access this order changes.")
        elif (
            changes.customer_id != customer.pk
            or changes.state != State.ACTIVE
            or (system is not None and changes.external_system_id != system.pk)
            or changes.environment != facts.get("environment")
        ):
            errors["changes_order"] = _("A change must concern an active access for the same system and environment.")
    elif changes is not None:
        errors["changes_order"] = _("Only a change order names an existing access.")

    replaced = facts.get("replaces_order")
    if replaced is not None:
        if reason != AccessOrder.Reason.NEW:
            errors["replaces_order"] = _(
                "Only a new integration replaces another system; a change names the access it changes."
            )
        elif (
            replaced.customer_id != customer.pk
            or replaced.state not in ACCESS_RUNNING_STATES
            or replaced.environment != facts.get("environment")
        ):
            errors["replaces_order"] = _(
                "Choose one of your live accesses in the same environment as the one replaced."
            )
        elif system is not None and replaced.external_system_id == system.pk:
            errors["replaces_order"] = _(
                "%(system)s cannot replace itself. To extend its access, order a change to it instead."
            ) % {"system": system.name}

    if facts.get("startup_package") and system is not None and not errors.get("interfaces"):
        # "Opstartspakken tilkøbes til individuel integration": it comes with the vendor's test access.
        if integration_type_for(system, interfaces, package) != AccessOrder.IntegrationType.INDIVIDUAL:
            errors["startup_package"] = _(
                "The startup package is sold for individual integration only, and %(system)s has a standard "
                "integration for these interfaces. Remove the startup package."
            ) % {"system": system.name}
        elif facts.get("environment") != AccessOrder.Environment.TEST:
            errors["startup_package"] = _(
                "The startup package gives the vendor 6 months of access to the external test environment: "
                "order it for the test environment, and order production access from the test access later."
            )

    if facts.get("environment") not in AccessOrder.Environment.values:
        errors["environment"] = _("Choose the production or the test environment.")
    if reason not in AccessOrder.Reason.values:
        errors["reason"] = _("Choose why the access is ordered.")
    for name, multiline in (("requisition_number", False), ("note", True)):
        limit = AccessOrder._meta.get_field(name).max_length
        problem = typed_text_problem(facts.get(name) or "", max_length=limit, multiline=multiline)
        if problem:
            errors[name] = problem
    if errors:
        raise InvalidOrder(_("The order has errors. Correct the fields marked below."), errors=errors)


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


def integration_type_for(system: ExternalSystem, interfaces: Iterable[Interface], package=None) -> str:
    """Standard integration only when KMD has agreed it for this system and all these interfaces."""
    if not system.is_standard:
        return AccessOrder.IntegrationType.INDIVIDUAL
    if package is not None:
        return AccessOrder.IntegrationType.STANDARD
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
        order = AccessOrder(customer=customer, created_by=actor)
        interfaces = _apply_facts(order, facts)
        _confirm_vendor_agreement(order, actor, bool(facts.get("vendor_agreement_confirmed")))
        order.save()
        order.interfaces.set(interfaces)
        audit_record(order=order, actor=actor, role=Role.ORDERER, kind=AuditKind.CREATE, from_state="")
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
        interfaces = _apply_facts(locked, facts)
        _confirm_vendor_agreement(locked, actor, bool(facts.get("vendor_agreement_confirmed")))
        locked.save()
        locked.interfaces.set(interfaces)
        audit_record(
            order=locked,
            actor=actor,
            role=Role.ORDERER,
            kind=AuditKind.EDIT,
        )
    return locked


# --- Transitions -------------------------------------------------------------------------------


def lock_order(order: AccessOrder) -> AccessOrder:
    """Lock the customer, then the order (Locks, above); make sure nobody changed its state since the caller read it."""
    Customer.objects.select_for_update(no_key=True).only("pk").get(pk=order.customer_id)
    orders = AccessOrder.objects.select_for_update(no_key=True, of=("self",)).select_related("customer")
    locked = orders.get(pk=order.pk)
    if locked.state != order.state:
        raise ChangedMeanwhile(
            _(
                "Someone else changed this order while you were working on it: it is now “%(state)s”. "
                "Reload the page to see what happened."
            )
            % {"state": locked.get_state_display()}
        )
    return locked


def enqueue_event_notification(event) -> None:
    """The e-mails about an audit event, sent after commit (notifications.RECIPIENTS says to whom)."""
    if event.kind not in RECIPIENTS:
        return
    outbox_enqueue(
        NOTIFY_EVENT,
        payload={"event_id": event.pk},
        key=str(event.pk),
        order_id=event.order_id,
        event_id=event.pk,
        subject=order_reference(event.order_id) if event.order_id else "",
    )


@retry_on_conflict
def _run_transition(
    order: AccessOrder,
    actor,
    spec: transitions.TransitionSpec,
    *,
    fields: Iterable[str] = (),
    comment: str = "",
    params: dict | None = None,
    job: str = "",
    check=None,
    after=None,
    perform=None,
    **kwargs,
) -> AccessOrder:
    """Run one transition of the registry (ordering/transitions.py) for `actor`, or for a system job (`job`,
    no actor: the nightly closure), which the FSM's role check does not apply to."""
    with transaction.atomic():
        locked = lock_order(order)
        refusal = transitions.transition_refusal(locked, actor, spec.name, by_job=bool(job) and actor is None)
        if refusal is not None:
            raise refusal
        method = getattr(locked, spec.name)
        if check is not None:
            check(locked)
        if perform is not None:
            perform(locked)  # writes, audits and sends the e-mails itself (closing: `_end_access`)
            return locked
        from_state = locked.state
        method(**kwargs)
        locked.save(update_fields=["state", "updated_at", *fields])
        if after is not None:
            after(locked)
        event = audit_record(
            order=locked,
            actor=actor,
            role=spec.role,
            kind=spec.kind,
            from_state=from_state,
            to_state=locked.state,
            comment=comment,
            params=params,
        )
        enqueue_event_notification(event)
    return locked


def _require_text(value: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidOrder(message, errors={"comment": message})
    return _comment(value)


def _comment(value: str) -> str:
    """A comment or reason as stored: trimmed, refused when too long or holding control characters."""
    value = (value or "").strip()
    problem = typed_text_problem(value, max_length=TEXT_MAX_LENGTH, multiline=True)
    if problem:
        raise InvalidOrder(problem, errors={"comment": problem})
    return value


def conflicting_order(order: AccessOrder) -> AccessOrder | None:
    """Another open order giving the same system access to one of the same interfaces, if any."""
    return overlapping_open_order(
        customer_id=order.customer_id,
        external_system_id=order.external_system_id,
        environment=order.environment,
        interface_ids=[i.pk for i in order.requested_interfaces()],
        exclude_ids=[pk for pk in (order.pk, order.changes_order_id) if pk],
    )


def overlapping_open_order(
    *, customer_id: int, external_system_id: int, environment: str, interface_ids: list[int], exclude_ids: list[int]
) -> AccessOrder | None:
    """The rule behind `conflicting_order`, also asked while the order form is being filled in (not yet saved)."""
    others = AccessOrder.objects.filter(
        customer_id=customer_id,
        external_system_id=external_system_id,
        environment=environment,
        state__in=OPEN_STATES,
    ).exclude(pk__in=exclude_ids)
    wanted = Q(interfaces__in=interface_ids) | Q(package__interfaces__in=interface_ids)
    return others.filter(wanted).distinct().order_by("pk").first()


def _check_submittable(order: AccessOrder) -> None:
    if not order.requested_interfaces():
        raise InvalidOrder(_("The order names no interfaces. Edit it and choose interfaces or a package."))
    # Again at submission: the catalogue's mapping may have changed since the draft was saved.
    if order.reason == AccessOrder.Reason.PHASE_OUT and order.replaces_file_interface_id:
        problem = phase_out_problem(order.replaces_file_interface, order.requested_interfaces())
        if problem:
            raise InvalidOrder(problem)
    if order.integration_type == AccessOrder.IntegrationType.INDIVIDUAL:
        _check_certificate(order)
    other = conflicting_order(order)
    if other is not None:
        raise InvalidOrder(
            _(
                "%(system)s already has an open order (%(reference)s, “%(state)s”) for some of the same interfaces "
                "in this environment. Withdraw one of them, or order a change to the existing access."
            )
            % {"system": order.external_system.name, "reference": other.reference, "state": other.get_state_display()}
        )


def _check_certificate(order: AccessOrder) -> None:
    """Individual integration needs a valid chain for the order's environment before KMD can review it."""
    bundle = lifecycle.certificates().current_bundle(order)
    if bundle is None:
        raise InvalidOrder(
            _(
                "Individual integration needs the system's OCES3 certificate with its full chain. "
                "Upload it on the order before submitting."
            )
        )
    if bundle.environment != order.environment:
        raise InvalidOrder(
            _(
                "The uploaded certificate was checked for the %(checked)s environment, but the order is for %(env)s. "
                "Upload a certificate for %(env)s."
            )
            % {"checked": bundle.get_environment_display(), "env": order.get_environment_display()}
        )
    leaf = bundle.leaf
    if leaf is None or leaf.not_after <= timezone.now():
        raise InvalidOrder(_("The uploaded certificate has expired. Upload a valid certificate chain."))


def _confirm_vendor_agreement(order: AccessOrder, actor, confirmed: bool) -> None:
    """Record who confirmed the agreement with the vendor, and when; the first confirmation stands.
    Unticking it on a draft takes it back."""
    if not confirmed:
        order.vendor_agreement_confirmed_by = order.vendor_agreement_confirmed_at = None
    elif order.vendor_agreement_confirmed_at is None:
        order.vendor_agreement_confirmed_by, order.vendor_agreement_confirmed_at = actor, timezone.now()


def order_submit(*, order: AccessOrder, actor, vendor_agreement_confirmed: bool = False) -> AccessOrder:
    """Submit a draft. It needs the orderer's confirmation that an agreement with the system's vendor exists:
    given on the draft, or now (`vendor_agreement_confirmed`, the submit form's box)."""

    def check(locked: AccessOrder) -> None:
        if vendor_agreement_confirmed:
            _confirm_vendor_agreement(locked, actor, True)
        if locked.vendor_agreement_confirmed_at is None:
            raise InvalidOrder(
                _(
                    "Confirm that %(customer)s has an agreement with the vendor of %(system)s about this integration. "
                    "Do not start before you have agreed with the vendor: you have two suppliers and need an "
                    "agreement with both."
                )
                % {"customer": locked.customer.name, "system": locked.external_system.name}
            )
        _check_submittable(locked)

    return _run_transition(
        order,
        actor,
        transitions.SUBMIT,
        fields=["submitted_at", "vendor_agreement_confirmed_by", "vendor_agreement_confirmed_at"],
        check=check,
    )


def order_return_for_changes(*, order: AccessOrder, actor, comment: str) -> AccessOrder:
    comment = _require_text(comment, _("Tell the orderer what to change."))
    return _run_transition(order, actor, transitions.RETURN_FOR_CHANGES, comment=comment)


def order_reject(*, order: AccessOrder, actor, comment: str) -> AccessOrder:
    comment = _require_text(comment, _("Give the reason for rejecting the order; the orderer will see it."))
    return _run_transition(order, actor, transitions.REJECT, comment=comment)


def order_withdraw(*, order: AccessOrder, actor, comment: str = "") -> AccessOrder:
    return _run_transition(order, actor, transitions.WITHDRAW, comment=_comment(comment))


def order_discard(*, order: AccessOrder, actor, comment: str = "") -> AccessOrder:
    return _run_transition(order, actor, transitions.DISCARD, comment=_comment(comment))


def _issue_new_version(order: AccessOrder, actor) -> None:
    # Before the quote and the document read them: this version's interfaces are what its signatory accepts.
    order.freeze_interfaces()
    now = timezone.now()
    latest = order.addenda.order_by("-version").first()
    if latest is not None and latest.status == Addendum.Status.ISSUED:
        latest.status = Addendum.Status.SUPERSEDED
        latest.save(update_fields=["status"])
    addendum = Addendum.objects.create(
        order=order, version=(latest.version + 1 if latest else 1), issued_by=actor, issued_at=now
    )
    try:
        lifecycle.billing().quote_freeze(addendum=addendum)
    except Refusal as error:  # no price list in force, say: the version cannot be issued
        raise InvalidOrder(error.message) from None
    enqueue_addendum_render(addendum)


# What a catalogue entry lacks, as the refusal names it (Interface.addendum_gaps).
_CATALOGUE_GAPS = {
    "purpose": gettext_lazy("the purpose of the processing"),
    "categories": gettext_lazy("the categories of personal data"),
    "subjects": gettext_lazy("the categories of data subjects"),
}


def _check_addendum_issuable(order: AccessOrder) -> None:
    """What a version of the addendum needs before it can bind anyone: it is a data-processing instruction a
    lawyer signs, so it states each interface's purpose, categories of personal data and of data subjects
    (never a fallback made from the others), prints a real support contact (never a placeholder), and for
    individual integration the clarification of access rights for the order's interfaces and certificate."""
    interfaces = order.requested_interfaces()
    for gap, what in _CATALOGUE_GAPS.items():
        lacking = [i.name for i in interfaces if gap in i.addendum_gaps]
        if lacking:
            raise NotAllowedNow(
                _(
                    "KMD's interface catalogue does not state %(what)s for %(interfaces)s, and an addendum cannot "
                    "instruct KMD without it. Ask a catalogue administrator to add it, then issue the addendum."
                )
                % {"what": what, "interfaces": ", ".join(lacking)}
            )
    # The demo (DEBUG) leaves the placeholder out of the document; a real one must name support.
    if not settings.DEBUG and documents.support_contact_unset():
        raise NotAllowedNow(
            _(
                "The addendum cannot be issued while KMD Opus Personale support's phone number and e-mail address "
                "are not set (SUPPORT_PHONE, SUPPORT_EMAIL): a binding document must not print a placeholder. "
                "Ask the operator to set them."
            )
        )
    if order.integration_type == AccessOrder.IntegrationType.INDIVIDUAL:
        _check_access_clarification(order, interfaces)


def _check_access_clarification(order: AccessOrder, interfaces: list[Interface]) -> None:
    clarification = AccessClarification.objects.filter(order=order).prefetch_related("interfaces").first()
    if clarification is None:
        raise NotAllowedNow(
            _(
                "Individual integration: record the clarification of access rights (which interfaces, which data, "
                "which certificate) on the order before issuing the addendum."
            )
        )
    if {i.pk for i in clarification.interfaces.all()} != {i.pk for i in interfaces}:
        raise NotAllowedNow(
            _(
                "The clarification of access rights names other interfaces than the order does now. "
                "Record the clarification again, then issue the addendum."
            )
        )
    bundle = lifecycle.certificates().current_bundle(order)
    leaf = bundle.leaf if bundle is not None else None
    if leaf is None or leaf.sha256 != clarification.certificate_sha256:
        raise NotAllowedNow(
            _(
                "The clarification of access rights was recorded for another certificate than the one the order "
                "uses now. Record the clarification again, then issue the addendum."
            )
        )


def order_issue_addendum(*, order: AccessOrder, actor, comment: str = "") -> AccessOrder:
    return _run_transition(
        order,
        actor,
        transitions.ISSUE_ADDENDUM,
        comment=_comment(comment),
        check=_check_addendum_issuable,
        after=lambda o: _issue_new_version(o, actor),
    )


def order_revise(*, order: AccessOrder, actor, comment: str) -> AccessOrder:
    comment = _require_text(comment, _("Say what changed in the new version of the addendum."))
    return _run_transition(
        order,
        actor,
        transitions.REVISE,
        comment=comment,
        check=_check_addendum_issuable,
        after=lambda o: _issue_new_version(o, actor),
    )


def _decide_current_addendum(
    order: AccessOrder, actor, status: str, ip: str | None, reason: str = "", **fields
) -> Addendum:
    addendum = order.addenda.select_for_update(no_key=True).get(status=Addendum.Status.ISSUED)
    addendum.status = status
    addendum.decided_by = actor
    addendum.decided_at = timezone.now()
    addendum.decided_from_ip = ip
    addendum.decline_reason = reason
    for name, value in fields.items():
        setattr(addendum, name, value)
    addendum.save(update_fields=["status", "decided_by", "decided_at", "decided_from_ip", "decline_reason", *fields])
    return addendum


def _check_acceptance(
    order: AccessOrder, *, document_sha256: str, signer_name: str, signer_title: str, authorised: bool
) -> None:
    """The signatory accepts exactly the document they reviewed, and says who they are."""
    if not authorised:
        raise InvalidOrder(_("Confirm that you are authorised to bind the customer."))
    if not signer_name.strip() or not signer_title.strip():
        raise InvalidOrder(_("Type your name and your title as they should appear on the accepted addendum."))
    # The typed name and title are printed on the accepted copy: they must say what they show.
    for field, label, value in (
        ("signer_name", _("Your name"), signer_name),
        ("signer_title", _("Your title"), signer_title),
    ):
        problem = typed_text_problem(value.strip(), max_length=Addendum._meta.get_field(field).max_length)
        if problem:
            raise InvalidOrder(f"{label}: {problem}", errors={field: problem})
    # Readable: transitions.ACCEPT's precondition, asked by _run_transition before this.
    addendum = order.addenda.select_for_update(no_key=True).get(status=Addendum.Status.ISSUED)
    if document_sha256 != addendum.pdf_sha256:
        raise ChangedMeanwhile(
            _("The addendum has changed since you opened it. Reload the page and read the current version.")
        )
    with addendum.pdf.open("rb") as stored:
        if hashlib.sha256(stored.read()).hexdigest() != addendum.pdf_sha256:
            logger.error("Stored PDF of addendum %s does not match its hash", addendum.pk)
            raise InvalidOrder(_("The stored document failed its integrity check. KMD has been told; try again later."))


def order_accept(
    *,
    order: AccessOrder,
    actor,
    document_sha256: str,
    signer_name: str,
    signer_title: str,
    authorised: bool,
    ip: str | None = None,
    login: dict | None = None,
) -> AccessOrder:
    """The signatory accepts the issued version: who, their typed name and title, how they had logged in,
    when, from where, and the SHA-256 of the exact PDF they accepted."""

    def record(o: AccessOrder) -> None:
        accepted = _decide_current_addendum(
            o,
            actor,
            Addendum.Status.ACCEPTED,
            ip,
            signer_name=signer_name.strip(),
            signer_title=signer_title.strip(),
            accepted_sha256=document_sha256,
            signer_login=_acceptance_login(login),
        )
        enqueue_addendum_stamp(accepted)

    def check(o: AccessOrder) -> None:
        acceptance_login_refusal(o, login, actor)
        _check_acceptance(
            o,
            document_sha256=document_sha256,
            signer_name=signer_name,
            signer_title=signer_title,
            authorised=authorised,
        )

    return _run_transition(order, actor, transitions.ACCEPT, check=check, after=record)


# The NSIS levels as the refusal names them, in the reader's language.
ASSURANCE_WORDS = {
    Assurance.LOW: gettext_lazy("low"),
    Assurance.SUBSTANTIAL: gettext_lazy("substantial"),
    Assurance.HIGH: gettext_lazy("high"),
}

LOGIN_FIELDS = ("scheme", "issuer", "organisation", "person", "assurance", "authenticated_at")


def _acceptance_login(login: dict | None) -> dict:
    return {field: str(login.get(field, "")) for field in LOGIN_FIELDS} if login else {}


def acceptance_login_refusal(order: AccessOrder, login: dict | None, actor=None) -> None:
    """Accepting binds the customer: the signatory must have logged in with MitID Erhverv for the order's
    customer's CVR number, at MITID_MIN_ASSURANCE or higher. A password login may accept only where passwords
    are everyone's (the demo), and the acceptance then records no login."""
    if not login:
        if passwords_for_everyone():
            return
        raise NotPermitted(_("Accepting binds your organisation: log in with MitID Erhverv to accept the addendum."))
    if login.get("scheme") != LoginIdentity.Scheme.MITID_ERHVERV:
        raise NotPermitted(_("Only the customer's signatory, logged in with MitID Erhverv, can accept the addendum."))
    if login.get("organisation") != order.customer.cvr:
        raise NotPermitted(
            _(
                "You are logged in for CVR number %(cvr)s, not for %(customer)s (CVR number %(customer_cvr)s). "
                "Log in with MitID Erhverv for %(customer)s to accept."
            )
            % {"cvr": login.get("organisation"), "customer": order.customer.name, "customer_cvr": order.customer.cvr}
        )
    if (
        actor is not None
        and not LoginIdentity.objects.filter(
            user=actor,
            scheme=LoginIdentity.Scheme.MITID_ERHVERV,
            organisation=login.get("organisation", ""),
            person=login.get("person", ""),
        ).exists()
    ):
        # The proof must be this person's own login, not another session's.
        raise NotPermitted(_("Accepting binds your organisation: log in with MitID Erhverv to accept the addendum."))
    level = Assurance.parse(login.get("assurance"))
    if level is None or level < people.minimum_assurance():
        raise NotPermitted(
            _(
                "Accepting needs a MitID Erhverv login at assurance level %(level)s or higher. Log out, and log in "
                "again with MitID at that level."
            )
            % {"level": ASSURANCE_WORDS[people.minimum_assurance()]}
        )


def order_decline(*, order: AccessOrder, actor, comment: str, ip: str | None = None) -> AccessOrder:
    comment = _require_text(comment, _("Tell the account manager why the addendum is declined."))
    return _run_transition(
        order,
        actor,
        transitions.DECLINE,
        comment=comment,
        after=lambda o: _declined(o, actor, ip, comment),
    )


def _declined(order: AccessOrder, actor, ip: str | None, comment: str) -> None:
    _decide_current_addendum(order, actor, Addendum.Status.DECLINED, ip, comment)
    lifecycle.billing().on_decline(order=order, actor=actor)


def _close_changed_access(order: AccessOrder, actor) -> None:
    """A change order replaces the access it changes, and a replacement order the other system's access
    it names: that one ends the day the new one starts, with its billing."""
    previous_id = order.changes_order_id or order.replaces_order_id
    if not previous_id:
        return
    previous = AccessOrder.objects.select_for_update(no_key=True).get(pk=previous_id)
    if previous.state not in ACCESS_RUNNING_STATES:
        return
    # The account manager activating the change is also the one who may close the old access.
    _end_access(
        previous,
        actor,
        role=Role.ACCOUNT_MANAGER,
        on=order.activated_on,
        params={ordering_audit.REPLACED_BY: order.reference},
    )


def _end_access(
    order: AccessOrder,
    actor,
    *,
    role: str,
    on: datetime.date,
    kind: AuditKind = AuditKind.CLOSE,
    comment: str = "",
    params: dict | None = None,
    job: str = "",
    end_licence_ids: list[int] | None = None,
) -> None:
    """Every way an access ends but an emergency: closed by hand, on the date scheduled, replaced by the order
    that changes or replaces it, or a startup package's test access running out. The order closes on `on`,
    billing stops that day and ends the licences no other access uses (or those chosen), one audit event
    records it, and that event's kind decides the e-mails (ordering/notifications.py). The caller has locked
    the order and checked who may do it."""
    from_state = order.state
    order.close(on=on)
    order.save(update_fields=["state", "closed_on", "updated_at"])
    lifecycle.billing().on_close(order=order, actor=actor, on=on, end_licence_ids=end_licence_ids)
    event = audit_record(
        order=order,
        actor=actor,
        job=job,
        role=role,
        kind=kind,
        from_state=from_state,
        to_state=order.state,
        comment=comment,
        params=params,
    )
    enqueue_event_notification(event)


def _short_date(day: datetime.date) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT")


def _check_activation_date(order: AccessOrder, on: datetime.date) -> None:
    """Billing starts on the activation date, so it can be no earlier than the customer's acceptance."""
    accepted = order.addenda.filter(status=Addendum.Status.ACCEPTED).order_by("-version").first()
    if accepted is None or accepted.decided_at is None:
        raise InvalidOrder(_("The order has no accepted addendum, so access cannot be marked as established."))
    accepted_on = timezone.localdate(accepted.decided_at)
    if on < accepted_on:
        raise InvalidOrder(
            _(
                "Access cannot have been established before the customer accepted the addendum on %(date)s. "
                "Choose that date or a later one."
            )
            % {"date": _short_date(accepted_on)}
        )


def order_activate(*, order: AccessOrder, actor, on: datetime.date | None = None, comment: str = "") -> AccessOrder:
    """Access is established: billing starts, and a change order replaces the access it changes."""
    on = on or timezone.localdate()
    if on > timezone.localdate():
        raise InvalidOrder(_("Access cannot be marked as established on a future date."))

    def established(o: AccessOrder) -> None:
        lifecycle.billing().on_activate(order=o, actor=actor)
        _close_changed_access(o, actor)
        if o.startup_package:
            # Recorded by the activation's own event: the package's test access starts with it.
            TestAccess.objects.create(order=o, starts_on=o.activated_on, ends_on=TestAccess.term_end(o.activated_on))

    return _run_transition(
        order,
        actor,
        transitions.ACTIVATE,
        fields=["activated_on"],
        comment=_comment(comment),
        check=lambda o: _check_activation_date(o, on),
        after=established,
        on=on,
    )


def order_request_closure(
    *, order: AccessOrder, actor, comment: str = "", wished_on: datetime.date | None = None
) -> AccessOrder:
    """The orderer asks the account manager to close the access, on a wished date or as soon as possible."""
    if wished_on is not None and wished_on < timezone.localdate():
        message = _("The wished date has passed. Choose today or a later date.")
        raise InvalidOrder(message, errors={"wished_on": message})
    return _run_transition(
        order,
        actor,
        transitions.REQUEST_CLOSURE,
        fields=["closure_wished_on"],
        comment=_comment(comment),
        params={ordering_audit.WISHED_ON: wished_on},
        wished_on=wished_on,
    )


def order_withdraw_closure_request(*, order: AccessOrder, actor, comment: str = "") -> AccessOrder:
    """The orderer takes the request back; a closure scheduled at their request is cancelled with it."""
    return _run_transition(
        order,
        actor,
        transitions.WITHDRAW_CLOSURE_REQUEST,
        fields=["closure_wished_on", "closure_scheduled_on"],
        comment=_comment(comment),
        params={ordering_audit.CANCELLED_CLOSURE_ON: order.closure_scheduled_on},
    )


def order_schedule_closure(*, order: AccessOrder, actor, on: datetime.date, comment: str = "") -> AccessOrder:
    """The account manager closes the access on a future date (e.g. year end). Until then it stays active
    and billed; `accesses_close_as_scheduled` closes it on the day. Scheduling again moves the date."""
    if on <= timezone.localdate():
        message = _("Choose a date after today. To close today, use “Close access”.")
        raise InvalidOrder(message, errors={"on": message})
    return _run_transition(
        order,
        actor,
        transitions.SCHEDULE_CLOSURE,
        fields=["closure_scheduled_on"],
        comment=_comment(comment),
        params={ordering_audit.ENDS_ON: on},
        on=on,
    )


def order_cancel_scheduled_closure(*, order: AccessOrder, actor, comment: str = "") -> AccessOrder:
    # That a closure is scheduled is the spec's precondition (transitions.CANCEL_SCHEDULED_CLOSURE).
    return _run_transition(
        order,
        actor,
        transitions.CANCEL_SCHEDULED_CLOSURE,
        fields=["closure_scheduled_on"],
        comment=_comment(comment),
        params={ordering_audit.CANCELLED_CLOSURE_ON: order.closure_scheduled_on},
    )


def order_close_as_scheduled(*, order: AccessOrder) -> AccessOrder:
    """Close an access on the date its account manager scheduled (the daily beat task calls this).

    Closing was the account manager's decision, recorded when they scheduled it (an audit event of its own);
    this records the job that kept the date (no person, `job`). Closing on the scheduled date stops billing
    that day and ends the licences no other access uses, as closing by hand does by default.
    """
    on = order.closure_scheduled_on
    job = ordering_audit.JOB_CLOSE_AS_SCHEDULED

    def still_due(locked: AccessOrder) -> None:
        if on is None or locked.closure_scheduled_on != on or on > timezone.localdate():
            raise ChangedMeanwhile(_("The scheduled closure was moved or cancelled meanwhile."))

    return _run_transition(
        order,
        None,
        transitions.CLOSE,
        job=job,
        check=still_due,
        perform=lambda o: _end_access(
            o, None, job=job, role="", on=on, params={ordering_audit.CLOSED_AS_SCHEDULED: True}
        ),
    )


def accesses_close_as_scheduled() -> int:
    """Close every access whose scheduled date has come (beat, daily). Safe to run again: a closed access
    is not due any more. A day missed while beat was down is caught up, closing on the scheduled date."""
    due = (
        AccessOrder.objects.access_running()
        .filter(closure_scheduled_on__lte=timezone.localdate())
        .select_related("customer__account_manager")
    )
    closed = 0
    for order in due:
        try:
            order_close_as_scheduled(order=order)
        except Refusal as refusal:
            logger.warning("Scheduled closure of %s not done: %s", order.reference, refusal, extra={"order": order.pk})
            continue
        closed += 1
    return closed


def order_close(
    *,
    order: AccessOrder,
    actor,
    on: datetime.date | None = None,
    comment: str = "",
    end_licence_ids: list[int] | None = None,
) -> AccessOrder:
    """Close access on a date. Licences no other access uses end too: all of them by default,
    or those in `end_licence_ids` when the account manager chose."""
    on = on or timezone.localdate()
    if on > timezone.localdate():
        raise InvalidOrder(_("Access can only be closed today or on a past date, not in the future."))

    def not_before_activation(locked: AccessOrder) -> None:
        if locked.activated_on and on < locked.activated_on:
            raise InvalidOrder(
                _("The closing date cannot be before access was established (%(date)s).")
                % {"date": _short_date(locked.activated_on)}
            )

    return _run_transition(
        order,
        actor,
        transitions.CLOSE,
        check=not_before_activation,
        perform=lambda o: _end_access(
            o, actor, role=transitions.CLOSE.role, on=on, comment=_comment(comment), end_licence_ids=end_licence_ids
        ),
    )


def order_emergency_close(*, order: AccessOrder, actor, reason: str) -> AccessOrder:
    reason = _require_text(
        reason, _("Give the reason for the emergency closure; customer and account manager will see it.")
    )
    return _run_transition(
        order,
        actor,
        transitions.EMERGENCY_CLOSE,
        fields=["emergency_reason", "closed_on"],
        comment=reason,
        after=lambda o: lifecycle.billing().on_emergency_close(order=o, actor=actor, on=o.closed_on),
        reason=reason,
        on=timezone.localdate(),
    )


# --- Emergency closure requested by the customer ------------------------------------------------


def emergency_request_refusal(order: AccessOrder, roles: set) -> Refusal | None:
    """Why these roles cannot ask support to close this access at once, or None: the one rule the order page
    (to offer the form) and the service (to refuse) ask."""
    if not roles & {Role.ORDERER, Role.SIGNATORY}:
        return NotPermitted(_("Only an orderer or signatory at the customer can request an emergency closure."))
    if order.state in CLOSED_STATES:
        return NotAllowedNow(
            _("The access is already closed (“%(state)s” on %(date)s); there is nothing to close.")
            % {"state": order.get_state_display(), "date": _short_date(order.closed_on)}
        )
    if order.state not in ACCESS_AGREED_STATES:
        return NotAllowedNow(
            _("This order gives no access (it is “%(state)s”), so there is nothing to close.")
            % {"state": order.get_state_display()}
        )
    if order.emergency_requested_at is not None:
        requested = timezone.localtime(order.emergency_requested_at)
        return NotAllowedNow(
            _(
                "An emergency closure was already requested at %(time)s and support have been told. "
                "Call them if it is urgent."
            )
            % {"time": formats.date_format(requested, "SHORT_DATETIME_FORMAT")}
        )
    return None


@retry_on_conflict
def order_request_emergency_closure(*, order: AccessOrder, actor, reason: str) -> AccessOrder:
    """An orderer or signatory asks support to close the access at once (e.g. a security breach at the vendor).

    Not a transition: the access runs until support emergency-close it, and two customer roles may ask,
    where a transition has one role. Support are e-mailed at once and see it first on their start page.
    """
    reason = _require_text(reason, _("Say why the access must be closed at once; support read it before they act."))
    with transaction.atomic():
        locked = lock_order(order)
        roles = order_roles(actor, locked)
        refusal = emergency_request_refusal(locked, roles)
        if refusal is not None:
            raise refusal
        role = next(r for r in (Role.ORDERER, Role.SIGNATORY) if r in roles)
        locked.emergency_requested_at = timezone.now()
        locked.emergency_request_reason = reason
        locked.save(update_fields=["emergency_requested_at", "emergency_request_reason", "updated_at"])
        event = audit_record(
            order=locked,
            actor=actor,
            role=role,
            kind=AuditKind.EMERGENCY_CLOSURE_REQUESTED,
            from_state=locked.state,
            to_state=locked.state,
            comment=reason,
        )
        enqueue_event_notification(event)
    return locked


# --- The startup package's test access (TestAccess in ordering/models.py) ----------------------


def test_access_sweep(*, today: datetime.date | None = None) -> dict[str, int]:
    """Daily (beat): close the test accesses whose end date has come, and tell orderers and account manager
    30 and 7 days before the end (each once). Safe to run again the same day."""
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=max(TestAccess.NOTICE_DAYS))
    due = TestAccess.objects.filter(
        expired_on__isnull=True, order__state__in=ACCESS_RUNNING_STATES, ends_on__lte=horizon
    ).values_list("pk", flat=True)
    done = {"expired": 0, "notified": 0}
    for pk in list(due):
        outcome = _test_access_tick(test_access_id=pk, today=today)
        if outcome:
            done[outcome] += 1
    return done


@retry_on_conflict
def _test_access_tick(*, test_access_id: int, today: datetime.date) -> str:
    with transaction.atomic():
        access = TestAccess.objects.select_related("order").get(pk=test_access_id)
        order = lock_order(access.order)
        access = TestAccess.objects.select_for_update(no_key=True).get(pk=test_access_id)
        access.order = order
        if access.expired_on or order.state not in ACCESS_RUNNING_STATES:
            return ""
        if today >= access.ends_on:
            return _test_access_expire(access)
        days_left = (access.ends_on - today).days
        reached = [days for days in TestAccess.NOTICE_DAYS if days_left <= days]
        if not reached or (access.notified_days is not None and access.notified_days <= min(reached)):
            return ""
        access.notified_days = min(reached)
        access.save(update_fields=["notified_days"])
        event = audit_record(
            order=order,
            job=ordering_audit.JOB_TEST_ACCESS_SWEEP,
            kind=AuditKind.TEST_ACCESS_EXPIRING,
            params={ordering_audit.TEST_ACCESS_ENDS_ON: access.ends_on, "days_left": days_left},
        )
        enqueue_event_notification(event)
        return "notified"


def _test_access_expire(access: TestAccess) -> str:
    """On its end date the order closes as any closure does (billing stops); its own audit kind says why."""
    access.expired_on = access.ends_on
    access.save(update_fields=["expired_on"])
    _end_access(
        access.order,
        None,
        job=ordering_audit.JOB_TEST_ACCESS_SWEEP,
        role="",
        on=access.ends_on,
        kind=AuditKind.TEST_ACCESS_EXPIRED,
        params={ordering_audit.TEST_ACCESS_ENDED_ON: access.ends_on},
    )
    return "expired"


@retry_on_conflict
def test_access_extend(*, order: AccessOrder, actor, until: datetime.date, reason: str) -> TestAccess:
    """The account manager moves a running test access's end date later, with a reason the customer sees."""
    reason = _require_text(reason, _("Give the reason for extending the test access; the customer sees it."))
    with transaction.atomic():
        locked = lock_order(order)
        if Role.ACCOUNT_MANAGER not in order_roles(actor, locked):
            raise NotPermitted(_("Only the customer's account manager can extend a test access."))
        access = TestAccess.objects.select_for_update(no_key=True).filter(order=locked).first()
        if access is None:
            raise NotAllowedNow(_("This order has no test access."))
        access.order = locked
        if access.status != TestAccess.Status.ACTIVE:
            raise NotAllowedNow(_("Only a running test access can be extended; order a new one instead."))
        if until <= access.ends_on or until <= timezone.localdate():
            message = _("Choose an end date after the current one, %(date)s.") % {"date": _short_date(access.ends_on)}
            raise InvalidOrder(message, errors={"until": message})
        previous = access.ends_on
        access.ends_on, access.extended_by, access.extended_at = until, actor, timezone.now()
        access.extension_reason = reason
        access.notified_days = None  # the notices are given again before the new end date
        access.save(update_fields=["ends_on", "extended_by", "extended_at", "extension_reason", "notified_days"])
        audit_record(
            order=locked,
            actor=actor,
            role=Role.ACCOUNT_MANAGER,
            kind=AuditKind.TEST_ACCESS_EXTENDED,
            comment=reason,
            params={ordering_audit.EXTENDED_FROM_ON: previous, "extended_to_on": until},
        )
    return access


# Their names begin with "test_": not tests, for pytest's sake when a test module imports them.
test_access_sweep.__test__ = False
test_access_extend.__test__ = False


def production_order_offered(order: AccessOrder) -> bool:
    """A running or expired test access offers "Order production access" until one is ordered from it."""
    access = TestAccess.objects.filter(order=order).first()
    if access is None:
        return False
    access.order = order
    if access.status not in (TestAccess.Status.ACTIVE, TestAccess.Status.EXPIRED):
        return False
    return not order.production_orders.exclude(state__in=ABANDONED_STATES).exists()


@retry_on_conflict
def order_create_from_test_access(*, test_order: AccessOrder, actor) -> AccessOrder:
    """Order production access: a production draft with the test access's system, purchase and
    interfaces, linked to it. The orderer checks it, adds the production certificate and submits."""
    if Role.ORDERER not in customer_roles(actor, test_order.customer_id):
        raise NotPermitted(_("Only an orderer at the customer can order production access."))
    facts = {
        "external_system": test_order.external_system,
        "purchase_model": test_order.purchase_model,
        "package": test_order.package,
        # A package order's own interfaces are the set its addendum froze: the new order takes the package.
        "interfaces": list(test_order.interfaces.all()) if test_order.package_id is None else [],
        "environment": AccessOrder.Environment.PRODUCTION,
        "reason": AccessOrder.Reason.NEW,
        "requisition_number": test_order.requisition_number,
    }
    _check_order_facts(customer=test_order.customer, facts=facts)
    with transaction.atomic():
        locked = lock_order(test_order)
        if not production_order_offered(locked):
            raise NotAllowedNow(
                _(
                    "Production access is ordered once from a running or expired test access; "
                    "see the orders linked to it."
                )
            )
        order = AccessOrder(customer=locked.customer, created_by=actor, test_order=locked)
        interfaces = _apply_facts(order, facts)
        order.save()
        order.interfaces.set(interfaces)
        audit_record(
            order=order,
            actor=actor,
            role=Role.ORDERER,
            kind=AuditKind.CREATE,
            from_state="",
            comment=_("Ordered from the test access %(reference)s.") % {"reference": locked.reference},
        )
    return order


# --- The addendum document ---------------------------------------------------------------------

# Outbox handlers (core/outbox.py) for the two documents of a version.
RENDER_ADDENDUM = "ordering.render_addendum"
STAMP_ADDENDUM = "ordering.stamp_addendum"
# A render that fails for want of storage is tried this often (back-off between) before the version shows
# "failed" with "Generate again"; WeasyPrint's own errors are final at once, since trying again changes nothing.
RENDER_ATTEMPTS = 3


def enqueue_addendum_render(addendum: Addendum) -> None:
    outbox_enqueue(
        RENDER_ADDENDUM,
        payload={"addendum_id": addendum.pk},
        key=str(addendum.pk),
        order_id=addendum.order_id,
        subject=addendum.number,
    )


def enqueue_addendum_stamp(addendum: Addendum) -> None:
    outbox_enqueue(
        STAMP_ADDENDUM,
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
            order=locked.order,
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
    (enqueue_addendum_render if handler == RENDER_ADDENDUM else enqueue_addendum_stamp)(addendum)


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
