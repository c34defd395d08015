"""Every write to orders: one function per action (docs/style.md practice 1), a module per sub-domain:

- `running`: how every write runs (the lock, the transition and its checks, the audit event, e-mails);
- `systems`: a customer's own external systems;
- `drafts`: creating and editing a draft;
- `addenda`: the addendum document (rendered, stamped, generated again, recovered);
- `closure`: every way an access ends, through one `_end_access` (the emergency closure aside);
- `transitions`: the way to an established access (submit … addendum … activate);
- `startup`: the startup package's test access;
- `incidents`: support's incident closure, every running access of a system or vendor emergency-closed at once.

Callers import from `ordering.services`. The modules import each other downwards only, in the order
above (a later one may import an earlier one).

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

An incident closure (`incidents`) writes many orders in one transaction: it locks all their customers, then all
the orders, each level in primary-key order, before the first order's closure; each closure then takes its
order's other rows (4) and the audit head (5) in turn. Those rows belong to customers it already holds, and the
order-level writers of them lock the customer first, so going back to level 4 after level 5 does not wait on them;
should a deadlock still happen (e.g. with the billing run), `incident_close` runs again whole (@retry_on_conflict).

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

# The refusals are the shared kinds (core/errors.py), importable from here too.
from core.errors import ChangedMeanwhile, Invalid, NotAllowedNow, NotPermitted, Refusal

from .addenda import (
    RENDER_ADDENDUM,
    RENDER_ATTEMPTS,
    STAMP_ADDENDUM,
    addendum_documents_recover,
    addendum_render,
    addendum_render_again,
    addendum_stamp,
    enqueue_addendum_render,
    enqueue_addendum_stamp,
)
from .closure import (
    accesses_close_as_scheduled,
    emergency_request_refusal,
    order_cancel_scheduled_closure,
    order_close,
    order_close_as_scheduled,
    order_emergency_close,
    order_request_closure,
    order_request_emergency_closure,
    order_schedule_closure,
    order_withdraw_closure_request,
)
from .drafts import (
    ORDER_FACT_FIELDS,
    draft_edit_refusal,
    integration_type_for,
    order_create,
    order_facts_problems,
    order_update_draft,
    phase_out_problem,
)
from .incidents import incident_close
from .running import enqueue_event_notification, lock_order
from .startup import order_create_from_test_access, production_order_offered, test_access_extend, test_access_sweep
from .systems import external_system_register
from .transitions import (
    ASSURANCE_WORDS,
    LOGIN_FIELDS,
    acceptance_login_refusal,
    conflicting_order,
    order_accept,
    order_activate,
    order_decline,
    order_discard,
    order_issue_addendum,
    order_reject,
    order_return_for_changes,
    order_revise,
    order_submit,
    order_withdraw,
    overlapping_open_order,
)

__all__ = [
    "ChangedMeanwhile",
    "Invalid",
    "NotAllowedNow",
    "NotPermitted",
    "Refusal",
    "ASSURANCE_WORDS",
    "LOGIN_FIELDS",
    "ORDER_FACT_FIELDS",
    "RENDER_ADDENDUM",
    "RENDER_ATTEMPTS",
    "STAMP_ADDENDUM",
    "acceptance_login_refusal",
    "accesses_close_as_scheduled",
    "addendum_documents_recover",
    "addendum_render",
    "addendum_render_again",
    "addendum_stamp",
    "conflicting_order",
    "draft_edit_refusal",
    "emergency_request_refusal",
    "enqueue_addendum_render",
    "enqueue_addendum_stamp",
    "enqueue_event_notification",
    "external_system_register",
    "incident_close",
    "integration_type_for",
    "lock_order",
    "order_accept",
    "order_activate",
    "order_cancel_scheduled_closure",
    "order_close",
    "order_close_as_scheduled",
    "order_create",
    "order_create_from_test_access",
    "order_decline",
    "order_discard",
    "order_emergency_close",
    "order_facts_problems",
    "order_issue_addendum",
    "order_reject",
    "order_request_closure",
    "order_request_emergency_closure",
    "order_return_for_changes",
    "order_revise",
    "order_schedule_closure",
    "order_submit",
    "order_update_draft",
    "order_withdraw",
    "order_withdraw_closure_request",
    "overlapping_open_order",
    "phase_out_problem",
    "production_order_offered",
    "test_access_extend",
    "test_access_sweep",
]
