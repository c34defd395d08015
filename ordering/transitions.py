"""The lifecycle actions on an order: one spec each, and every rule of an action in it (docs/style.md practice 11).

The state change itself is the FSM method of the same name on AccessOrder (ordering/models.py), pure;
the audit event it writes is the AuditKind of that name. Everything else about an action is its
`TransitionSpec` below: its label, the role that may do it, the service that does it, the form that
asks for what the service needs, whether it can be undone, the confirmation it asks for and the consequence
(with its date) it names, the customer's request it answers, what the user is told afterwards, and who is
e-mailed with which templates. Where the order page offers it follows from these (`TransitionSpec.rank`):
what answers the customer's request first, what ends the order last.

Who reads the registry: the services (`_run_transition` records the spec's role), the order page and
its one action view (ordering/views.py), the API, the e-mails (ordering/notifications.py) and the tests,
which check it against the FSM (tests/ordering/test_transitions.py).

Whether a user may run an action on an order now, and the sentence when not, is `transition_refusal`:
the FSM's state and role, then the spec's `precondition`. The order page and the API offer exactly the
actions it allows (`transitions_offered`), and `_run_transition` refuses with its answer under the lock
(tests/ordering/test_one_rule_per_action.py).

A spec names its service by dotted path (`ordering.services.order_<name>` unless it says otherwise): the
services read their spec, so the spec cannot import the services back without an import cycle.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django import forms
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed, has_transition_perm

from accounts.sessions import LOGIN_PROOF
from core.errors import ChangedMeanwhile, NotAllowedNow, NotPermitted, Refusal
from core.security import client_ip
from core.widgets import HiddenInput

from . import lifecycle
from .audit import AuditKind
from .models import TEXT_MAX_LENGTH, AccessOrder, Addendum, State
from .roles import Role
from .validators import typed_text_field, validate_multiline_text


class Audience(StrEnum):
    """Whom an event is e-mailed to; ordering/notifications.py finds the people."""

    ORDERERS = "orderers"
    SIGNATORIES = "signatories"
    ACCOUNT_MANAGER = "account_manager"
    SUPPORT = "support"  # KMD Opus Personale support: every active support user


# --- The forms ---------------------------------------------------------------------------------


class DateInput(forms.DateInput):
    """The browser's date picker: it shows the date the user's way and sends it as YYYY-MM-DD."""

    input_type = "date"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


def date_field(label: Promise, missing: Promise) -> forms.DateField:
    # Typed dates are read the user's way too (DATE_INPUT_FORMATS of the active language, and ISO 8601).
    return forms.DateField(
        label=label, initial=timezone.localdate, widget=DateInput, error_messages={"required": missing}
    )


def comment_field(label: Promise | None = None, *, missing: Promise | None = None) -> forms.CharField:
    """A comment; required when `missing` says what to write when it is left empty."""
    return forms.CharField(
        label=label or _("Comment"),
        required=missing is not None,
        max_length=TEXT_MAX_LENGTH,
        validators=[validate_multiline_text],
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": missing} if missing is not None else None,
    )


class ActionForm(forms.Form):
    """What every action posts: the state the user saw the order in.

    A subclass adds the fields its service needs and says in `arguments()` how they become the
    service's keyword arguments. `service_kwargs()` is the one place a request reaches a service.
    """

    # Included into the order page, with its context (order, money).
    template_name = "ordering/actions/_form.html"
    # The decision is stored with the address it came from (Addendum.decided_from_ip).
    records_address = False
    # The decision is stored with what the person's login proved (Addendum.signer_login).
    records_login = False

    expected_state = forms.CharField(widget=HiddenInput)

    def __init__(self, data=None, *, spec: TransitionSpec, order: AccessOrder, user) -> None:
        # Ids of its own: the order page shows several actions' forms at once.
        super().__init__(data, initial={"expected_state": order.state}, auto_id=f"{spec.name}-%s")
        self.spec = spec
        self.order = order
        self.user = user
        if spec.confirmation:
            self.fields["confirm"] = forms.BooleanField(
                label=spec.confirmation, error_messages={"required": spec.confirmation_missing}
            )

    @property
    def button(self) -> str:
        """The button's DKFDS class: primary for the action that answers what the customer asked."""
        return "button-primary" if self.spec.answers_request(self.order) else self.spec.button

    @property
    def confirm_button(self) -> str:
        """The button that confirms the action where it asks first: the one thing asked there, so never plain."""
        return "button-primary" if self.button == "button-secondary" else self.button

    def effective_on(self) -> datetime.date | None:
        """The date the action takes effect on, as the form holds it now (sent, or suggested): its `on` field."""
        if "on" not in self.fields:
            return None
        if self.is_bound:
            value = self.cleaned_data.get("on") if hasattr(self, "cleaned_data") else None
        else:
            value = self.get_initial_for_field(self.fields["on"], "on")
        return value if isinstance(value, datetime.date) else None

    def consequence(self) -> str | None:
        """The spec's consequence with the form's date in it (today without one), the way the user reads dates."""
        if not self.spec.consequence:
            return None
        on = self.effective_on() or timezone.localdate()
        return self.spec.consequence % {"on": formats.date_format(on, "SHORT_DATE_FORMAT")}

    def consequence_attrs(self) -> dict[str, str]:
        """What lets the page's script (static/js/app.js) say the consequence again with the date the user picks
        before confirming: the date field, the date format, and the sentence with its %(on)s."""
        if not self.spec.consequence or "on" not in self.fields:
            return {}
        return {
            "data-date-of": self["on"].id_for_label,
            "data-date-format": formats.get_format("SHORT_DATE_FORMAT"),
            "data-consequence": str(self.spec.consequence),
        }

    def is_offered(self) -> bool:
        """Whether the page offers the action to this form's user now: `transition_refusal` allows it."""
        return transition_refusal(self.order, self.user, self.spec.name) is None

    def changed_meanwhile(self) -> ChangedMeanwhile | None:
        """The refusal when the order is no longer in the state the user saw it in (`expected_state`), or None.

        Asked by the page's action view and the API just before the service runs: a form sent twice gets the
        first one's answer, not this refusal."""
        if self.cleaned_data["expected_state"] == self.order.state:
            return None
        return ChangedMeanwhile(
            gettext("The order changed while you were looking at it; it is now “%(state)s”. Check it and try again.")
            % {"state": self.order.get_state_display()}
        )

    def arguments(self) -> dict[str, Any]:
        return {}

    def service_kwargs(self, request: HttpRequest) -> dict[str, Any]:
        """The service's keyword arguments besides `order` and `actor`, from a valid form."""
        kwargs = self.arguments()
        if self.records_address:
            kwargs["ip"] = client_ip(request)
        if self.records_login:
            # A MitID Erhverv login's proof (ordering/login.py); none for a password login or an API token.
            session = getattr(request, "session", None)
            kwargs["login"] = session.get(LOGIN_PROOF) if session is not None else None
        return kwargs


class SubmitForm(ActionForm):
    """Submitting asks the orderer to confirm the agreement with the system's vendor, unless the draft has it.

    The source: "I bør dog ikke igangsætte dette, uden I først har aftalt dette med leverandøren af det
    eksterne system"; the customer has two suppliers and needs an agreement with both.
    """

    def __init__(self, data=None, **kwargs) -> None:
        super().__init__(data, **kwargs)
        if self.order.vendor_agreement_confirmed_at is None:
            self.fields["vendor_agreement"] = forms.BooleanField(
                label=_(
                    "%(customer)s has an agreement with the vendor %(vendor)s about this integration. "
                    "(Do not start before you have agreed with the vendor.)"
                )
                % {"customer": self.order.customer.name, "vendor": self.order.external_system.vendor.name},
                error_messages={"required": _("Confirm the agreement with the vendor before submitting.")},
            )

    def arguments(self) -> dict[str, Any]:
        return {"vendor_agreement_confirmed": bool(self.cleaned_data.get("vendor_agreement"))}


class CommentForm(ActionForm):
    comment = comment_field()

    def arguments(self) -> dict[str, Any]:
        return {"comment": self.cleaned_data["comment"]}


class ReturnForChangesForm(CommentForm):
    comment = comment_field(
        _("What should the orderer change?"),
        missing=_("Write what the orderer should change before returning the order."),
    )


class RejectForm(CommentForm):
    comment = comment_field(_("Reason"), missing=_("Write why the order is rejected; the orderer reads it."))


class ReviseForm(CommentForm):
    comment = comment_field(
        _("What changed?"), missing=_("Write what changed in the new version; the signatories read it.")
    )


class DeclineForm(CommentForm):
    records_address = True
    comment = comment_field(
        _("Why is the addendum declined?"),
        missing=_("Write why you decline the addendum; the account manager reads it."),
    )


class AcceptForm(ActionForm):
    """The signatory accepts exactly the version they read, typing their name and title as signature."""

    template_name = "ordering/actions/accept.html"
    records_address = True
    records_login = True

    document_sha256 = forms.CharField(widget=HiddenInput)
    signer_name = typed_text_field(
        Addendum, "signer_name", _("Your name"), error_messages={"required": _("Enter your name as your signature.")}
    )
    signer_title = typed_text_field(
        Addendum,
        "signer_title",
        _("Your title"),
        error_messages={"required": _("Enter your title, e.g. HR manager; it is printed with your signature.")},
    )

    def __init__(self, data=None, **kwargs) -> None:
        super().__init__(data, **kwargs)
        if not self.is_bound:
            self.initial.update(signer_name=self.user.get_full_name(), signer_title=getattr(self.user, "title", ""))
            if self.addendum is not None:
                self.initial["document_sha256"] = self.addendum.pdf_sha256

    @property
    def addendum(self) -> Addendum | None:
        """The version awaiting signature, from the versions the order page has read already."""
        if not hasattr(self, "_addendum"):
            self._addendum = issued_addendum(self.order)
        return self._addendum

    def arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "document_sha256": data["document_sha256"],
            "signer_name": data["signer_name"],
            "signer_title": data["signer_title"],
            "authorised": data["confirm"],
        }


class ActivateForm(CommentForm):
    field_order = ["expected_state", "on", "comment"]
    on = date_field(_("Access established on"), _("Enter the date the access was established."))

    def arguments(self) -> dict[str, Any]:
        return {**super().arguments(), "on": self.cleaned_data["on"]}


class CloseForm(CommentForm):
    """The closing date and, when closing would leave licences no other access uses, which of them end."""

    field_order = ["expected_state", "on", "comment", "end_licence", "licence_choice"]
    on = date_field(_("Access ends on"), _("Enter the date the access ends."))
    end_licence = forms.TypedMultipleChoiceField(
        label=_("Also end these licences (no other access uses them)"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    # Sent with the licence list: a close posted without it (none shown) ends them all, the default.
    licence_choice = forms.BooleanField(required=False, widget=HiddenInput)

    def __init__(self, data=None, **kwargs) -> None:
        super().__init__(data, **kwargs)
        licences = lifecycle.billing().licences_offered_on_close(self.order)
        if licences:
            self.fields["end_licence"].choices = [(fee.pk, fee.interface.name) for fee in licences]
            self.initial.update(end_licence=[fee.pk for fee in licences], licence_choice=True)
        else:
            del self.fields["end_licence"], self.fields["licence_choice"]

    def arguments(self) -> dict[str, Any]:
        kwargs = {**super().arguments(), "on": self.cleaned_data["on"]}
        if self.cleaned_data.get("licence_choice"):
            kwargs["end_licence_ids"] = self.cleaned_data["end_licence"]
        return kwargs


class EmergencyCloseForm(ActionForm):
    comment = comment_field(
        _("Reason for the emergency closure"),
        missing=_("Write why the access is closed at once; the customer and the account manager read it."),
    )

    def __init__(self, data=None, **kwargs) -> None:
        super().__init__(data, **kwargs)
        if not self.is_bound and self.order.emergency_request_open:
            # Support starts from what the customer wrote when asking for it.
            self.initial["comment"] = self.order.emergency_request_reason

    def arguments(self) -> dict[str, Any]:
        return {"reason": self.cleaned_data["comment"]}


def wished_closure_problem(wished_on: datetime.date | None) -> str | None:
    """Why the orderer cannot wish this closing date, or None: the form and the service ask it."""
    if wished_on is not None and wished_on < timezone.localdate():
        return gettext("The wished date has passed. Choose today or a later date.")
    return None


def scheduled_closure_problem(on: datetime.date) -> str | None:
    """Why the account manager cannot schedule the closure on this date, or None: the form and the service ask it."""
    if on <= timezone.localdate():
        return gettext("Choose a date after today. To close today, use “Close access”.")
    return None


class RequestClosureForm(CommentForm):
    """Closure "at year end": the orderer may wish a date; the account manager decides it."""

    field_order = ["expected_state", "wished_on", "comment"]
    wished_on = forms.DateField(
        label=_("Close the access on (wished date)"),
        required=False,
        widget=DateInput,
        help_text=_("For example the end of the year. Leave it empty to have the access closed as soon as possible."),
    )

    def clean_wished_on(self) -> datetime.date | None:
        wished_on = self.cleaned_data["wished_on"]
        problem = wished_closure_problem(wished_on)
        if problem:
            raise forms.ValidationError(problem)
        return wished_on

    def arguments(self) -> dict[str, Any]:
        return {**super().arguments(), "wished_on": self.cleaned_data["wished_on"]}


def _year_end(today: datetime.date) -> datetime.date:
    year_end = datetime.date(today.year, 12, 31)
    return year_end if year_end > today else datetime.date(today.year + 1, 12, 31)


class ScheduleClosureForm(CommentForm):
    """A closing date after today; the customer's wished date, or the year end, is suggested."""

    field_order = ["expected_state", "on", "comment"]
    on = forms.DateField(
        label=_("Access ends on"), widget=DateInput, error_messages={"required": _("Enter the date the access ends.")}
    )

    def __init__(self, data=None, **kwargs) -> None:
        super().__init__(data, **kwargs)
        today = timezone.localdate()
        wished = self.order.closure_wished_on
        suggested = self.order.closure_scheduled_on or (wished if wished and wished > today else _year_end(today))
        self.initial.setdefault("on", suggested)

    def clean_on(self) -> datetime.date:
        on = self.cleaned_data["on"]
        problem = scheduled_closure_problem(on)
        if problem:
            raise forms.ValidationError(problem)
        return on

    def arguments(self) -> dict[str, Any]:
        return {**super().arguments(), "on": self.cleaned_data["on"]}


# --- What an action needs beyond the FSM's state and role ---------------------------------------


def issued_addendum(order: AccessOrder) -> Addendum | None:
    """The version awaiting signature, from the versions the order page has read already (or read now)."""
    return next((a for a in order.addenda.all() if a.status == Addendum.Status.ISSUED), None)


def _addendum_readable(order: AccessOrder) -> Refusal | None:
    # Nothing to accept until the document can be read. READY is final for an issued version.
    addendum = issued_addendum(order)
    if addendum is None or addendum.render_status != Addendum.RenderStatus.READY:
        return NotAllowedNow(
            gettext("The addendum document is not ready yet. Wait until it can be opened, and read it first.")
        )
    return None


def _closure_wished_later(order: AccessOrder) -> bool:
    """The customer asked to close on a date after today, and no closure is scheduled for it yet."""
    wished = order.closure_wished_on
    return _closure_unanswered(order) and wished is not None and wished > timezone.localdate()


def _closure_wished_now(order: AccessOrder) -> bool:
    """The customer asked to close as soon as possible, or on a date that has come."""
    wished = order.closure_wished_on
    return _closure_unanswered(order) and (wished is None or wished <= timezone.localdate())


def _closure_unanswered(order: AccessOrder) -> bool:
    return order.state == State.CLOSURE_REQUESTED and order.closure_scheduled_on is None


def _closure_scheduled(order: AccessOrder) -> Refusal | None:
    if order.closure_scheduled_on is None:
        return NotAllowedNow(gettext("No closure is scheduled for this access."))
    return None


# --- The specs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransitionSpec:
    name: str  # the FSM method on AccessOrder, and the AuditKind of its event
    label: Promise  # the form's heading and its button
    role: Role  # the one role that may do it (the FSM permission says the same; a test checks)
    form: type[ActionForm]
    success: Promise  # what the user is told when it is done
    # Dotted path of the service, called with order=, actor= and the form's service_kwargs();
    # ordering.services.order_<name> by default.
    service: str = ""
    help: Promise | str = ""
    button: str = "button-secondary"
    # The order ends: the page says it cannot be undone, asks first, and offers it after the other actions
    # (unless it answers the customer's request).
    irreversible: bool = False
    confirmation: Promise | None = None  # a box the user must tick, saying this
    confirmation_missing: Promise | None = None  # what the box means, said when it is left unticked
    # What asking first says will happen; %(on)s is the date of the form's `on` field (today without one).
    consequence: Promise | None = None
    # Whether the action answers what the customer asked for this order now: it is offered first, as the
    # primary button, and its form is pre-filled with what they asked.
    answers: Callable[[AccessOrder], bool] | None = None
    # While this is the order's latest action, its comment is the reason shown at the top of the order
    # to these roles (those who must act on it), under this heading.
    reason_label: Promise | None = None
    reason_for: frozenset[Role] = frozenset()
    recipients: frozenset[Audience] = frozenset()
    email_template: str = ""  # base of <base>_subject.txt, _body.txt, _body.html; ordering/email/<name> by default
    # What the order must be besides in the FSM's source state: the refusal when it is not, or None.
    precondition: Callable[[AccessOrder], Refusal | None] | None = None

    def __post_init__(self) -> None:
        if not self.service:
            object.__setattr__(self, "service", f"ordering.services.order_{self.name}")
        if self.confirmation is not None and self.confirmation_missing is None:
            raise ValueError(f"{self.name}: a box to tick needs a sentence saying what ticking it means")
        if self.recipients and not self.email_template:
            object.__setattr__(self, "email_template", f"ordering/email/{self.name}")

    @property
    def kind(self) -> AuditKind:
        return AuditKind(self.name)

    @property
    def needs_confirming(self) -> bool:
        """An irreversible action is confirmed in a step of its own, unless its form asks already."""
        return self.irreversible and self.confirmation is None

    def answers_request(self, order: AccessOrder) -> bool:
        return self.answers is not None and self.answers(order)

    def rank(self, order: AccessOrder) -> int:
        """Where the page offers the action: what answers the customer's request, then the usual next step (a
        primary button), then the other constructive actions, and what ends the order last."""
        if self.answers_request(order):
            return 0
        if self.irreversible:
            return 3
        return 1 if self.button == "button-primary" else 2

    def bind(self, data=None, *, order: AccessOrder, user) -> ActionForm:
        return self.form(data, spec=self, order=order, user=user)

    def run(self, *, order: AccessOrder, actor, **kwargs) -> AccessOrder:
        return import_string(self.service)(order=order, actor=actor, **kwargs)


SUBMIT = TransitionSpec(
    name="submit",
    label=_("Submit order"),
    role=Role.ORDERER,
    form=SubmitForm,
    success=_(
        "The order has been submitted. Next: KMD's account manager reviews it and issues a contract addendum "
        "for your signatory to accept. This page shows where the order is."
    ),
    help=_("The account manager at KMD reviews the order and prepares the contract addendum."),
    button="button-primary",
    recipients=frozenset({Audience.ACCOUNT_MANAGER}),
)
RETURN_FOR_CHANGES = TransitionSpec(
    name="return_for_changes",
    label=_("Return for changes"),
    role=Role.ACCOUNT_MANAGER,
    form=ReturnForChangesForm,
    success=_("The order has been returned to the orderer for changes."),
    reason_label=_("Returned by KMD"),
    reason_for=frozenset({Role.ORDERER}),
    recipients=frozenset({Audience.ORDERERS}),
)
REJECT = TransitionSpec(
    name="reject",
    label=_("Reject order"),
    role=Role.ACCOUNT_MANAGER,
    form=RejectForm,
    success=_("The order has been rejected."),
    reason_label=_("Rejected by KMD"),
    reason_for=frozenset({Role.ORDERER, Role.SIGNATORY}),
    button="button-warning",
    irreversible=True,
    consequence=_("The order is rejected today, %(on)s, and cannot be reopened; the orderers are told the reason."),
    recipients=frozenset({Audience.ORDERERS}),
)
WITHDRAW = TransitionSpec(
    name="withdraw",
    label=_("Withdraw order"),
    role=Role.ORDERER,
    form=CommentForm,
    success=_("The order has been withdrawn."),
    help=_("The order is cancelled and cannot be reopened."),
    irreversible=True,
    consequence=_("The order is withdrawn today, %(on)s, and cannot be reopened; KMD is told."),
    recipients=frozenset({Audience.ACCOUNT_MANAGER}),
)
DISCARD = TransitionSpec(
    name="discard",
    label=_("Discard draft"),
    role=Role.ORDERER,
    form=CommentForm,
    success=_("The draft has been discarded."),
    help=_("The draft is set aside as withdrawn and cannot be reopened. To order again, copy it."),
    irreversible=True,
    consequence=_("The draft is discarded today, %(on)s, and cannot be reopened; to order again, copy it."),
)
ISSUE_ADDENDUM = TransitionSpec(
    name="issue_addendum",
    label=_("Issue contract addendum"),
    role=Role.ACCOUNT_MANAGER,
    form=CommentForm,
    success=_("The contract addendum has been issued to the customer's signatories."),
    help=_("The customer's signatories are asked to accept the addendum."),
    button="button-primary",
    recipients=frozenset({Audience.SIGNATORIES}),
)
REVISE = TransitionSpec(
    name="revise",
    label=_("Issue a new version of the addendum"),
    role=Role.ACCOUNT_MANAGER,
    form=ReviseForm,
    success=_("A new version of the addendum has been issued."),
    recipients=frozenset({Audience.SIGNATORIES}),
)
ACCEPT = TransitionSpec(
    name="accept",
    label=_("Accept addendum"),
    role=Role.SIGNATORY,
    form=AcceptForm,
    precondition=_addendum_readable,
    success=_("The addendum has been accepted. KMD now establishes the access."),
    button="button-primary",
    confirmation=_(
        "I am authorised to bind the customer, and I instruct KMD as data processor to give the "
        "external system access as described in the addendum."
    ),
    confirmation_missing=_(
        "Tick the box to confirm that you have read the addendum, may bind the customer and instruct KMD to give "
        "the access it describes."
    ),
    recipients=frozenset({Audience.ACCOUNT_MANAGER, Audience.ORDERERS}),
)
DECLINE = TransitionSpec(
    name="decline",
    label=_("Decline addendum"),
    role=Role.SIGNATORY,
    form=DeclineForm,
    success=_("The addendum has been declined."),
    reason_label=_("Declined by the customer"),
    reason_for=frozenset({Role.ACCOUNT_MANAGER, Role.ORDERER}),
    recipients=frozenset({Audience.ACCOUNT_MANAGER, Audience.ORDERERS}),
)
ACTIVATE = TransitionSpec(
    name="activate",
    label=_("Access established"),
    role=Role.ACCOUNT_MANAGER,
    form=ActivateForm,
    success=_("Access has been marked as established."),
    help=_("The orderers are told, with a text to forward to the vendor."),
    button="button-primary",
    recipients=frozenset({Audience.ORDERERS}),
)
REQUEST_CLOSURE = TransitionSpec(
    name="request_closure",
    label=_("Request closure of access"),
    role=Role.ORDERER,
    form=RequestClosureForm,
    success=_("Closure of the access has been requested."),
    help=_("Your account manager at KMD closes the access and stops the billing tied to it."),
    recipients=frozenset({Audience.ACCOUNT_MANAGER}),
)
WITHDRAW_CLOSURE_REQUEST = TransitionSpec(
    name="withdraw_closure_request",
    label=_("Withdraw closure request"),
    role=Role.ORDERER,
    form=CommentForm,
    success=_("The closure request has been withdrawn; the access continues."),
    help=_("The access continues. A closure KMD has scheduled at your request is cancelled too."),
    recipients=frozenset({Audience.ACCOUNT_MANAGER}),
)
SCHEDULE_CLOSURE = TransitionSpec(
    name="schedule_closure",
    label=_("Schedule closure"),
    role=Role.ACCOUNT_MANAGER,
    form=ScheduleClosureForm,
    answers=_closure_wished_later,
    success=_("The closure has been scheduled. The access stays active and billed until that date."),
    help=_(
        "Closes the access on a future date, e.g. at year end. Until then it stays active and billed; on the "
        "date it closes by itself and billing tied to it stops. It can be cancelled until then."
    ),
    recipients=frozenset({Audience.ORDERERS}),
)
CANCEL_SCHEDULED_CLOSURE = TransitionSpec(
    name="cancel_scheduled_closure",
    label=_("Cancel scheduled closure"),
    role=Role.ACCOUNT_MANAGER,
    form=CommentForm,
    precondition=_closure_scheduled,
    success=_("The scheduled closure has been cancelled; the access continues."),
    recipients=frozenset({Audience.ORDERERS}),
)
CLOSE = TransitionSpec(
    name="close",
    label=_("Close access"),
    role=Role.ACCOUNT_MANAGER,
    form=CloseForm,
    success=_("Access has been closed."),
    help=_("Billing tied to this access stops on that date."),
    irreversible=True,
    consequence=_("The access closes on %(on)s; billing tied to it stops the same day."),
    answers=_closure_wished_now,
    recipients=frozenset({Audience.ORDERERS}),
)
EMERGENCY_CLOSE = TransitionSpec(
    name="emergency_close",
    label=_("Emergency-close access"),
    role=Role.SUPPORT,
    form=EmergencyCloseForm,
    success=_("Access has been emergency-closed."),
    help=_("Closes access immediately. Customer and account manager are notified at once."),
    button="button-warning",
    irreversible=True,
    confirmation=_("I understand that access is closed at once and cannot be reopened; a new order is needed."),
    confirmation_missing=_(
        "Tick the box to confirm that you understand the access is closed at once and cannot be reopened."
    ),
    recipients=frozenset({Audience.ORDERERS, Audience.SIGNATORIES, Audience.ACCOUNT_MANAGER}),
)

TRANSITIONS: dict[str, TransitionSpec] = {
    spec.name: spec
    for spec in (
        SUBMIT,
        RETURN_FOR_CHANGES,
        REJECT,
        WITHDRAW,
        DISCARD,
        ISSUE_ADDENDUM,
        REVISE,
        ACCEPT,
        DECLINE,
        ACTIVATE,
        REQUEST_CLOSURE,
        WITHDRAW_CLOSURE_REQUEST,
        SCHEDULE_CLOSURE,
        CANCEL_SCHEDULED_CLOSURE,
        CLOSE,
        EMERGENCY_CLOSE,
    )
}


def transition_refusal(order: AccessOrder, user, name: str, *, by_job: bool = False) -> Refusal | None:
    """Why `user` may not run the action `name` on `order` now, or None when they may: the one rule the order
    page and the API ask (to offer it) and `_run_transition` asks under its lock (to refuse it).

    In this order: the order's state (the FSM's source states), the user's role (the FSM's permission, the
    spec's `role`), then what the spec's `precondition` needs. What the user sends is the service's to check.
    A scheduled job (`by_job`, no user: the nightly closure) carries out what a person decided before, so
    the role is not asked; the state and the precondition are.
    """
    spec = TRANSITIONS[name]
    method = getattr(order, spec.name)
    if not can_proceed(method):
        return NotAllowedNow(
            gettext("This cannot be done while the order is “%(state)s”.") % {"state": order.get_state_display()}
        )
    if not by_job and not has_transition_perm(method, user):
        return NotPermitted(gettext("You do not have the role needed to do this for this customer's order."))
    return spec.precondition(order) if spec.precondition is not None else None


def transitions_offered(order: AccessOrder, user) -> list[TransitionSpec]:
    """The actions `user` may run on `order` now, in the order the situation asks (`TransitionSpec.rank`; the
    registry's, the FSM's, order among equals)."""
    offered = [spec for name, spec in TRANSITIONS.items() if transition_refusal(order, user, name) is None]
    return sorted(offered, key=lambda spec: spec.rank(order))
