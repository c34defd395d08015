"""Where an order is on its way to an established access, for the step indicator on its page.

The normal way is five steps (draft, submitted, approved, addendum accepted, established). Each state says
which step is current and, in one sentence, what happens next and who acts. Orders that leave the way
(withdrawn, rejected, closed) show how far they came and how they ended; a draft returned by KMD says so.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .audit import AuditKind
from .models import AccessOrder, State

# The steps' own words (issue #22: "Kladde → Indsendt → Godkendt → Tillæg accepteret → Etableret").
STEP_LABELS: tuple[Promise, ...] = (
    pgettext_lazy("order step", "Draft"),
    pgettext_lazy("order step", "Submitted"),
    pgettext_lazy("order step", "Approved"),
    pgettext_lazy("order step", "Addendum accepted"),
    pgettext_lazy("order step", "Established"),
)

# Per state: the step it is at (0-based), and what happens next and who acts.
_AT: dict[str, tuple[int, Promise]] = {
    State.DRAFT: (
        0,
        _("Next: an orderer at the customer checks the draft and submits it. KMD has not received it yet."),
    ),
    State.SUBMITTED: (
        1,
        _(
            "Next: KMD's account manager reviews the order and issues a contract addendum for the customer's "
            "signatory, or returns the order for changes."
        ),
    ),
    State.AWAITING_SIGNATURE: (
        2,
        _("Next: a signatory at the customer reads the contract addendum and accepts or declines it."),
    ),
    State.PROVISIONING: (
        3,
        _("Next: KMD establishes the access and tells the customer's orderers when it is ready."),
    ),
    State.ACTIVE: (
        4,
        _(
            "The access is established. The orderer tells the vendor; the access runs until the customer asks "
            "KMD to close it."
        ),
    ),
    State.CLOSURE_REQUESTED: (
        4,
        _("The customer has asked to close the access. Next: KMD's account manager closes it on the agreed date."),
    ),
}

# Orders that left the way: the step they stopped at, how it is shown, and what it means now.
_ENDED: dict[str, tuple[int, Promise, Promise]] = {
    State.WITHDRAWN: (
        1,
        _("Withdrawn"),
        _("The orderer withdrew the order. Nothing more happens; to order the access again, create a new order."),
    ),
    State.REJECTED: (
        1,
        _("Rejected"),
        _(
            "KMD rejected the order; the reason is shown on this page. Nothing more happens; to order again, "
            "create a new order."
        ),
    ),
}

_RETURNED = _("KMD returned the order for changes. Next: an orderer corrects the draft as asked and submits it again.")
_DECLINED = _(
    "The signatory declined the addendum. Next: KMD's account manager issues a new version or rejects the order."
)
_CLOSED = _("The access is closed and billing tied to it has stopped. To open access again, create a new order.")
_CLOSED_EARLY = _("The access was closed before it was established. To open access again, create a new order.")


@dataclass(frozen=True)
class Step:
    number: int
    label: Promise
    status: str  # "done", "current", "todo" or "error"


@dataclass(frozen=True)
class Steps:
    steps: list[Step]
    current: int  # 1-based, for "step N of M"
    next: Promise


def _steps(at: int, *, done_through: int, error_at: int | None = None, error_label: Promise | None = None) -> list:
    steps = []
    for index, label in enumerate(STEP_LABELS):
        if index == error_at:
            status, label = "error", error_label or label
        elif index <= done_through:
            status = "done"
        elif index == at:
            status = "current"
        else:
            status = "todo"
        steps.append(Step(number=index + 1, label=label, status=status))
    return steps


def order_steps(order: AccessOrder, latest_kind: str | None = None) -> Steps:
    """The steps of `order`; `latest_kind` is the kind of its latest lifecycle event (a return, a decline)."""
    if order.state in _ENDED:
        at, label, sentence = _ENDED[order.state]
        return Steps(_steps(at, done_through=at - 1, error_at=at, error_label=label), at + 1, sentence)
    if order.state in (State.CLOSED, State.EMERGENCY_CLOSED):
        last = len(STEP_LABELS) - 1
        if order.activated_on is None:
            label = order.get_state_display()
            return Steps(_steps(last, done_through=last - 1, error_at=last, error_label=label), last + 1, _CLOSED_EARLY)
        return Steps(_steps(last, done_through=last), last + 1, _CLOSED)
    at, sentence = _AT[order.state]
    if order.state == State.DRAFT and latest_kind == AuditKind.RETURN_FOR_CHANGES:
        sentence = _RETURNED
    elif order.state == State.SUBMITTED and latest_kind == AuditKind.DECLINE:
        sentence = _DECLINED
    # An established access is the way's end: its step is done, not waiting.
    done_through = at if order.state in (State.ACTIVE, State.CLOSURE_REQUESTED) else at - 1
    return Steps(_steps(at, done_through=done_through), at + 1, sentence)
