"""The order's way to an established access: submit, return, reject, withdraw, discard, the addendum
issued, revised, accepted or declined, and the access established."""

import datetime
import hashlib
import logging

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.backends import passwords_for_everyone
from accounts.models import LoginIdentity
from accounts.oidc import Assurance
from core.errors import ChangedMeanwhile, Invalid, NotAllowedNow, NotPermitted, Refusal
from core.prepared import Prepared

from .. import documents, lifecycle, people, transitions
from ..models import (
    OPEN_STATES,
    AccessClarification,
    AccessOrder,
    Addendum,
    Interface,
    TestAccess,
)
from ..validators import typed_text_problem
from .addenda import enqueue_addendum_render, enqueue_addendum_stamp
from .closure import _close_changed_access
from .drafts import _confirm_vendor_agreement, phase_out_problem
from .running import _require_text, _run_transition, _short_date

logger = logging.getLogger(__name__)


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
    return _OVERLAPPING.first(
        customer=customer_id,
        system=external_system_id,
        environment=environment,
        interfaces=interface_ids,
        excluded=exclude_ids,
    )


def _overlapping(p) -> QuerySet[AccessOrder]:
    # Asked by every preview of the order form as it is filled in: compiled once per process (core/prepared.py).
    others = AccessOrder.objects.filter(
        customer_id=p.customer,
        external_system_id=p.system,
        environment=p.environment,
        state__in=OPEN_STATES,
    ).exclude(pk__in=p.list("excluded"))
    interfaces = p.list("interfaces")
    wanted = Q(interfaces__id__in=interfaces) | Q(package__interfaces__id__in=interfaces)
    return others.filter(wanted).distinct().order_by("pk")[:1]


_OVERLAPPING = Prepared(_overlapping)


def _check_submittable(order: AccessOrder) -> None:
    if not order.requested_interfaces():
        raise Invalid(_("The order names no interfaces. Edit it and choose interfaces or a package."))
    # Again at submission: the catalogue's mapping may have changed since the draft was saved.
    if order.reason == AccessOrder.Reason.PHASE_OUT and order.replaces_file_interface_id:
        problem = phase_out_problem(order.replaces_file_interface, order.requested_interfaces())
        if problem:
            raise Invalid(problem)
    if order.integration_type == AccessOrder.IntegrationType.INDIVIDUAL:
        _check_certificate(order)
    other = conflicting_order(order)
    if other is not None:
        raise Invalid(
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
        raise Invalid(
            _(
                "Individual integration needs the system's OCES3 certificate with its full chain. "
                "Upload it on the order before submitting."
            )
        )
    if bundle.environment != order.environment:
        raise Invalid(
            _(
                "The uploaded certificate was checked for the %(checked)s environment, but the order is for %(env)s. "
                "Upload a certificate for %(env)s."
            )
            % {"checked": bundle.get_environment_display(), "env": order.get_environment_display()}
        )
    leaf = bundle.leaf
    if leaf is None or leaf.not_after <= timezone.now():
        raise Invalid(_("The uploaded certificate has expired. Upload a valid certificate chain."))


def order_submit(*, order: AccessOrder, actor, vendor_agreement_confirmed: bool = False) -> AccessOrder:
    """Submit a draft. It needs the orderer's confirmation that an agreement with the system's vendor exists:
    given on the draft, or now (`vendor_agreement_confirmed`, the submit form's box)."""

    def check(locked: AccessOrder) -> None:
        if vendor_agreement_confirmed:
            _confirm_vendor_agreement(locked, actor, True)
        if locked.vendor_agreement_confirmed_at is None:
            raise Invalid(
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
    return _run_transition(order, actor, transitions.WITHDRAW, comment=comment)


def order_discard(*, order: AccessOrder, actor, comment: str = "") -> AccessOrder:
    return _run_transition(order, actor, transitions.DISCARD, comment=comment)


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
        raise Invalid(error.message) from None
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
    return _issue(order, actor, transitions.ISSUE_ADDENDUM, comment)


def order_revise(*, order: AccessOrder, actor, comment: str) -> AccessOrder:
    comment = _require_text(comment, _("Say what changed in the new version of the addendum."))
    return _issue(order, actor, transitions.REVISE, comment)


def _issue(order: AccessOrder, actor, spec: transitions.TransitionSpec, comment: str) -> AccessOrder:
    """Issuing the addendum and revising it are one write: once the order is issuable, a new version is issued."""
    return _run_transition(
        order,
        actor,
        spec,
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
        raise Invalid(_("Confirm that you are authorised to bind the customer."))
    if not signer_name.strip() or not signer_title.strip():
        raise Invalid(_("Type your name and your title as they should appear on the accepted addendum."))
    # The typed name and title are printed on the accepted copy: they must say what they show.
    for field, label, value in (
        ("signer_name", _("Your name"), signer_name),
        ("signer_title", _("Your title"), signer_title),
    ):
        problem = typed_text_problem(value.strip(), max_length=Addendum._meta.get_field(field).max_length)
        if problem:
            raise Invalid(f"{label}: {problem}", errors={field: problem})
    # Readable: transitions.ACCEPT's precondition, asked by _run_transition before this.
    addendum = order.addenda.select_for_update(no_key=True).get(status=Addendum.Status.ISSUED)
    if document_sha256 != addendum.pdf_sha256:
        raise ChangedMeanwhile(
            _("The addendum has changed since you opened it. Reload the page and read the current version.")
        )
    with addendum.pdf.open("rb") as stored:
        if hashlib.sha256(stored.read()).hexdigest() != addendum.pdf_sha256:
            logger.error("Stored PDF of addendum %s does not match its hash", addendum.pk)
            raise Invalid(_("The stored document failed its integrity check. KMD has been told; try again later."))


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


def _check_activation_date(order: AccessOrder, on: datetime.date) -> None:
    """Billing starts on the activation date, so it can be no earlier than the customer's acceptance."""
    accepted = order.addenda.filter(status=Addendum.Status.ACCEPTED).order_by("-version").first()
    if accepted is None or accepted.decided_at is None:
        raise Invalid(_("The order has no accepted addendum, so access cannot be marked as established."))
    accepted_on = timezone.localdate(accepted.decided_at)
    if on < accepted_on:
        raise Invalid(
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
        raise Invalid(_("Access cannot be marked as established on a future date."))

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
        comment=comment,
        check=lambda o: _check_activation_date(o, on),
        after=established,
        on=on,
    )
