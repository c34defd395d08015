"""Reads scoped to the user: every view that shows an order goes through these."""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from django.core.exceptions import PermissionDenied
from django.db.models import Count, DateTimeField, Expression, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.roles import is_account_manager, is_customer_user, is_support
from audit.models import AuditEvent
from core import counting
from core.counting import (
    bounded_counts,
    bounded_counts_statement,
    bounded_firsts,
    bounded_firsts_statement,
    run_bounded_counts,
    run_bounded_firsts,
    run_page_of_union,
    union_statement,
)
from core.prepared import Prepared, PreparedStatement, given
from core.security import not_found, visible_or_404

from . import lifecycle
from .models import (
    ACCESS_AGREED_STATES,
    ACCESS_RUNNING_STATES,
    OPEN_STATES,
    AccessOrder,
    Addendum,
    Customer,
    CustomerMembership,
    ExternalSystem,
    State,
    Vendor,
)


def _with_list_relations(qs: QuerySet[AccessOrder]) -> QuerySet[AccessOrder]:
    # The test access too: the lists show its end date. The order's `last_action` tags a row "Returned by KMD"
    # or "Declined by the customer" (the state cell of ordering/_order_table.html).
    return qs.select_related("customer", "external_system__vendor", "package", "test_access")


def with_times(qs: QuerySet[AccessOrder]) -> QuerySet[AccessOrder]:
    """Annotate `waiting_since`: when the order entered its current state (its latest audit event to it).

    One correlated subquery in the list's own query (no query per row); an order that never changed
    state since it was created waits since its creation.
    """
    entered = (
        AuditEvent.objects.filter(order=OuterRef("pk"), to_state=OuterRef("state"))
        .order_by("-seq")
        .values("created_at")[:1]
    )
    return qs.annotate(waiting_since=Coalesce(Subquery(entered, output_field=DateTimeField()), "created_at"))


def orders_listed(ids: list[int], *, times: bool = False) -> list[AccessOrder]:
    """The orders `ids`, in that order, with what a list shows of each (and `waiting_since` with `times`): a page's
    rows once its ids are known (ids a user's own list gave, so no tenant rule again). Compiled once per process
    and number of ids (core/prepared.py); the order is the ids', so the query sorts nothing."""
    found = {order.pk: order for order in _ORDERS_LISTED.all(shape=(times,), ids=ids)}
    return [found[pk] for pk in ids if pk in found]


def _orders_listed(p, times: bool) -> QuerySet[AccessOrder]:
    orders = _with_list_relations(AccessOrder.objects.filter(pk__in=p.list("ids"))).order_by()
    return with_times(orders) if times else orders


_ORDERS_LISTED = Prepared(_orders_listed)


def served_customers(user, path: str = "customer") -> Q:
    """The one tenant rule: a user sees data of customers they belong to or manage as account manager.

    `path` leads from the queried model to its customer ("" when querying customers themselves).
    The customers are two small subqueries (`IN`), not a join: a join through the memberships would
    repeat rows and need DISTINCT over every column, which keeps a list from being read in the order
    of its index; each subquery is one index lookup the planner can estimate.
    """
    customer_in = f"{path}__in" if path else "pk__in"
    member_of = CustomerMembership.objects.filter(user=user).values("customer_id")
    managed = Customer.objects.filter(account_manager=user).values("pk")
    return Q(**{customer_in: member_of}) | Q(**{customer_in: managed})


def orders_visible_to(user) -> QuerySet[AccessOrder]:
    """Support sees every order; others see their own customers' and the customers they manage."""
    if not user.is_authenticated:
        return AccessOrder.objects.none()
    if is_support(user):
        return _with_list_relations(AccessOrder.objects.all())
    return _with_list_relations(AccessOrder.objects.filter(served_customers(user)))


def order_for_user(user, pk: int, *, related: tuple[str, ...] = ()) -> AccessOrder:
    """The order if this user may see it; otherwise 404, so its existence is not revealed. `related`: relations a
    page shows, read in the same query (select_related).

    `orders_visible_to(user).get(pk=pk)`, as core.security.visible_or_404 reads it, compiled once per process:
    every order page starts here, and building and compiling the order with its related rows was 2–3 ms of
    Python on each (core/prepared.py)."""
    if not user.is_authenticated:
        raise Http404("No such order")
    pk = int(pk)
    order = _ORDER_FOR_USER.first(shape=(is_support(user), related), user=user.pk, pk=pk)
    if order is None:
        raise not_found(AccessOrder, pk, kind="order")
    return order


def _order_for_user(p, support: bool, related: tuple[str, ...]) -> QuerySet[AccessOrder]:
    visible = AccessOrder.objects.all() if support else AccessOrder.objects.filter(served_customers(p.user))
    if related:  # select_related() with no names would follow every relation
        visible = visible.select_related(*related)
    # As QuerySet.get() asks: no order, at most MAX_GET_RESULTS (the primary key allows one).
    return _with_list_relations(visible).filter(pk=p.pk).order_by()[:2]


_ORDER_FOR_USER = Prepared(_order_for_user)


def customer_orders(user) -> QuerySet[AccessOrder]:
    """Orders of the customers where the user is an orderer or signatory."""
    member_of = CustomerMembership.objects.filter(user=user).values("customer_id")
    return _with_list_relations(AccessOrder.objects.filter(customer__in=member_of))


QUEUE_ORDER = ("submitted_at",)  # and the primary key: the account manager's queue, oldest submission first


def account_manager_queue_page(
    user, offset: int, limit: int, *, count_up_to: int | None = None
) -> tuple[list[AccessOrder], int]:
    """One page of the account manager's queue and how many orders it holds: two queries, the page's ids with the
    count, then the page's orders. With `count_up_to`, a count above it is `count_up_to` + 1 ("more than that").

    The queue is their worklists together, which share no order (each list its own state; "review" and "reissue"
    split the submitted ones by the customer's decline): so each list is read from the indexes its own condition
    names (core.counting.page_of_union), not all six OR-ed together in a scan of every order, once to count them
    and once more for the page; and bounded, each list gives only its first `count_up_to` + 1 orders in the queue's
    order, so the page does not sort and count every order waiting."""
    if count_up_to is not None:
        count_up_to = max(count_up_to, offset + limit)  # as page_of_union bounds it
    # Every account manager's start page asks this: compiled once per process and bound (core/prepared.py).
    union = _QUEUE.statement(shape=(count_up_to,), **_values_for(user))
    ids, count = run_page_of_union(union, offset, limit)
    if not ids:
        return [], count
    return orders_listed(ids), count  # in the queue's order, as page_of_union gives them


_QUEUE = PreparedStatement(
    lambda p, count_up_to: union_statement(
        [AccessOrder.objects.filter(wl.condition) for wl in _account_manager_lists(p)], QUEUE_ORDER, count_up_to
    )
)


def support_accesses(user, query: str = "") -> QuerySet[AccessOrder]:
    """Open and active accesses (those support can emergency-close), optionally searched."""
    if not is_support(user):
        return AccessOrder.objects.none()
    qs = _with_list_relations(AccessOrder.objects.access_agreed())
    if query.strip():
        qs = qs.filter(order_search(query))
    return qs.order_by("customer__name", "pk")


def order_search(query: str) -> Q:
    """The orders a typed search finds: by customer (name or CVR), system, vendor or requisition number, or by
    the order's reference with or without "OA-" and its leading zeros. The order lists and support's search."""
    query = query.strip()
    condition = (
        Q(customer__name__icontains=query)
        | Q(customer__cvr=query)
        | Q(external_system__name__icontains=query)
        | Q(external_system__vendor__name__icontains=query)
        | Q(requisition_number__icontains=query)
    )
    digits = query.upper().removeprefix("OA-").lstrip("0")
    if digits.isdigit():
        condition |= Q(pk=int(digits))
    return condition


def first_emergency_closure_requests(user, n: int) -> list[AccessOrder]:
    """The first `n` running accesses a customer asked support to emergency-close, oldest request first: the top of
    support's queue on their start page, compiled once per process (core/prepared.py)."""
    return _FIRST_EMERGENCY_REQUESTS.all(shape=(n,)) if is_support(user) else []


_FIRST_EMERGENCY_REQUESTS = Prepared(
    lambda p, n: _with_list_relations(
        AccessOrder.objects.access_agreed().filter(emergency_requested_at__isnull=False)
    ).order_by("emergency_requested_at", "pk")[:n]
)


# --- Support's incident closure (ordering/services/incidents.py) -----------------------------------

IncidentTarget = ExternalSystem | Vendor
"""What an incident closure is for: one external system, or a vendor (every one of its systems)."""


def incident_condition(target: IncidentTarget) -> Q:
    """The orders of the system, or of every system of the vendor."""
    if isinstance(target, Vendor):
        return Q(external_system__vendor=target)
    return Q(external_system=target)


def incident_accesses(target: IncidentTarget) -> QuerySet[AccessOrder]:
    """The running accesses (ACCESS_RUNNING_STATES: those the gateway lets in) an incident closure of `target` closes,
    by customer. Provisioning orders have no access yet, so they are not among them."""
    running = AccessOrder.objects.access_running().filter(incident_condition(target))
    return running.select_related("customer", "external_system__vendor", "test_access").order_by("customer__name", "pk")


def incident_target_for(user, *, system: str | None = None, vendor: str | None = None) -> IncidentTarget | None:
    """The external system or vendor support chose (ids as sent in the query or the form), None when none was;
    404 for an id that names none. Only support close for an incident: anyone else is refused before asking."""
    if not is_support(user):
        raise PermissionDenied
    if system:
        candidates, wanted = ExternalSystem.objects.select_related("vendor"), system
    elif vendor:
        candidates, wanted = Vendor.objects.all(), vendor
    else:
        return None
    if not str(wanted).isdigit():
        raise Http404("No such system or vendor")
    return visible_or_404(candidates, int(wanted), kind=candidates.model._meta.model_name)


def incident_choices(user) -> dict[str, list]:
    """Every external system and every vendor with its number of running accesses, for support to choose from:
    two queries, however many there are. Those with running accesses first, then by name."""
    if not is_support(user):
        return {"systems": [], "vendors": []}
    systems = ExternalSystem.objects.select_related("vendor", "owner").annotate(
        running=Count("orders", filter=Q(orders__state__in=ACCESS_RUNNING_STATES))
    )
    vendors = Vendor.objects.select_related("owner").annotate(
        running=Count("systems__orders", filter=Q(systems__orders__state__in=ACCESS_RUNNING_STATES))
    )
    return {
        "systems": list(systems.order_by("-running", "name", "pk")),
        "vendors": list(vendors.order_by("-running", "name", "pk")),
    }


def customers_for_orderer(user) -> QuerySet[Customer]:
    return _customers_ordered_for(user.pk)


def _customers_ordered_for(user_id) -> QuerySet[Customer]:
    # The one rule for whom a user orders: an id, or a prepared query's slot (_customer_to_order_for).
    return Customer.objects.filter(memberships__user_id=user_id, memberships__is_orderer=True).distinct()


def _customer_to_order_for(p, chosen: bool) -> QuerySet[Customer]:
    # With the account manager, whom the order form names when the answers need their advice.
    one = _customers_ordered_for(p.user).select_related("account_manager")
    return (one.filter(pk=p.chosen) if chosen else one)[:1]  # by name (Customer.Meta), as .first() read them


_CUSTOMER_TO_ORDER_FOR = Prepared(_customer_to_order_for)


def customer_to_order_for(user, chosen: int | str | None = None) -> tuple[Customer, QuerySet[Customer]]:
    """The customer `user` orders for now, and all the customers they order for (the page and the API ask this).

    The one `chosen` names (its id, as sent), or the first when nothing – or no number – is chosen. Someone who
    orders for no customer is told whom to ask (PermissionDenied: a page this role cannot use); a chosen
    customer they do not order for is a 404, as another customer's order is.
    """
    customers = customers_for_orderer(user)
    is_chosen = isinstance(chosen, int) or (isinstance(chosen, str) and chosen.isdigit())
    # Every preview of the order form asks this: compiled once per process (core/prepared.py).
    customer = _CUSTOMER_TO_ORDER_FOR.first(shape=(is_chosen,), user=user.pk, chosen=int(chosen) if is_chosen else None)
    if customer is not None:
        return customer, customers
    # Only now asked why there is none: each form's preview asks this, and nearly always there is one.
    if not customers.exists():
        raise PermissionDenied(
            gettext(
                "Only a customer's orderers can order access or register systems. "
                "If you should order for a customer, ask the customer's administrator to make you an orderer."
            )
        )
    raise Http404("Not an orderer there")


def live_accesses_of(customer: Customer | Expression | int) -> QuerySet[AccessOrder]:
    """The customer's accesses a replacement order may name: active, or active with closure requested. The customer,
    its id or a prepared query's slot for it (the order form's choices, ordering/forms.py)."""
    running = AccessOrder.objects.access_running().filter(customer=customer)
    return running.select_related("external_system")


def active_accesses_of(customer: Customer | Expression | int) -> QuerySet[AccessOrder]:
    return AccessOrder.objects.filter(customer=customer, state=State.ACTIVE).select_related("external_system")


# --- External systems: KMD's catalogue, and each customer's own ------------------------------------


def systems_available_to(customer: Customer | Expression | int) -> QuerySet[ExternalSystem]:
    """What an order for this customer may name: KMD's catalogue systems and the customer's own."""
    return ExternalSystem.objects.filter(Q(owner__isnull=True) | Q(owner=customer)).select_related("vendor")


def own_systems_visible_to(user) -> QuerySet[ExternalSystem]:
    """Systems customers registered themselves: a customer's people see their own, KMD those of the customers
    it serves (support all of them); the same tenant rule as orders."""
    if not user.is_authenticated:
        return ExternalSystem.objects.none()
    own = ExternalSystem.objects.filter(owner__isnull=False).select_related("vendor", "owner")
    if is_support(user):
        return own
    return own.filter(served_customers(user, "owner"))


def addendum_for_user(user, pk: int, version: int) -> Addendum:
    """A version of an order's addendum if the user may see the order; otherwise 404 (the page and the API)."""
    order = order_for_user(user, pk)
    addendum = order.addenda.filter(version=version).select_related("order").first()
    if addendum is None:
        raise Http404("No such addendum")
    return addendum


def own_system_for_user(user, pk: int) -> ExternalSystem:
    """A customer's own system if this user may see it; otherwise 404, so its existence is not revealed."""
    own_systems = ExternalSystem.objects.filter(owner__isnull=False)
    return visible_or_404(own_systems_visible_to(user), pk, kind="external_system", existing=own_systems)


# --- "Waiting for you": each role's worklist ------------------------------------------------------


@dataclass(frozen=True)
class Worklist:
    """One kind of order waiting for the user: `condition` says which, within the user's reach.

    `when` builds the condition, the first time it is asked: the start page and the menu ask a user's lists with
    SQL compiled once per process (worklist_counts), and need only their keys and labels here."""

    key: str
    label: Promise
    when: Callable[[], Q]

    @cached_property
    def condition(self) -> Q:
        return self.when()

    @property
    def orders(self) -> QuerySet[AccessOrder]:
        return _with_list_relations(AccessOrder.objects.filter(self.condition)).order_by("updated_at", "pk")


def _latest_action(kind: str) -> Q:
    """The order's latest lifecycle action is `kind`: a draft KMD returned, an addendum the customer declined
    (AccessOrder.last_action, written with the action's audit event)."""
    return Q(last_action=kind)


# The worklists are built from `p`: the values they depend on (the user's id, the renewal window's end, the
# moment), as slots of a prepared statement (worklist_counts, worklists_shown) or as the values themselves
# (core.prepared.given). Both build the same conditions, so the menu's badge and the start page pay for building
# and compiling them once per process, not on every request.
_MOMENT = DateTimeField()


def _values_for(user, today: datetime.date | None = None) -> dict:
    today = today or timezone.localdate()
    renew_until = lifecycle.certificates().renewal_window_end(today)
    return {"user": user.pk, "renew_until": renew_until, "now": timezone.now()}


def _certificate_expires_by(p) -> Q:
    """An open order whose certificate in use is due for renewal (certificates' window, asked through the
    contract ordering owns: ordering/lifecycle.py)."""
    return lifecycle.certificates().renewal_due(p.typed("renew_until", _MOMENT)) & Q(state__in=OPEN_STATES)


def _member_customers(p, **role) -> Q:
    return Q(customer__in=CustomerMembership.objects.filter(user_id=p.user, **role).values("customer_id"))


def _addendum_issued(render_status: str) -> Q:
    """The order's addendum version awaiting signature has this document status (transitions.issued_addendum)."""
    issued = Addendum.objects.filter(status=Addendum.Status.ISSUED, render_status=render_status)
    return Q(pk__in=issued.values("order_id"))


def _rollover_waiting(p) -> Q:
    return lifecycle.certificates().rollover_waiting(p.typed("now", _MOMENT))


def _renewable(p) -> Q:
    """Where an orderer can renew a certificate now: a new chain is uploaded on an active individual integration
    (certificates.selectors.certificate_upload_refusal; a draft's chain is replaced while it is a draft, in the
    drafts list). Once one is uploaded it waits for the account manager's confirmation, not for the orderer."""
    return Q(state=State.ACTIVE, integration_type=AccessOrder.IntegrationType.INDIVIDUAL) & ~_rollover_waiting(p)


def orderer_worklist(user, today: datetime.date | None = None) -> list[Worklist]:
    """What the customer's orderers act on now: drafts KMD returned, drafts to submit, certificates to renew.

    A closure request is not theirs to act on: it waits for KMD (the account manager's "close" list), and once
    KMD has scheduled it there is nothing left to do; the order list's state filter still finds them.
    """
    return _orderer_lists(given(**_values_for(user, today)))


def _orderer_lists(p) -> list[Worklist]:
    def mine(state: str) -> Q:
        return _member_customers(p, is_orderer=True) & Q(state=state)

    returned = _latest_action("return_for_changes")
    return [
        Worklist("returned", _("Returned by KMD for changes"), lambda: mine(State.DRAFT) & returned),
        # The FSM's source state of "submit" (transitions.SUBMIT has no further precondition).
        Worklist("draft", _("Drafts to submit"), lambda: mine(State.DRAFT) & ~returned),
        Worklist(
            "renew",
            _("Certificates to renew"),
            lambda: _member_customers(p, is_orderer=True) & _certificate_expires_by(p) & _renewable(p),
        ),
    ]


def signatory_worklist(user) -> list[Worklist]:
    """Contract addenda issued to the signatory's customers, not yet decided, whose document can be read:
    the precondition of "accept" (transitions._addendum_readable); one still being generated waits."""
    return _signatory_lists(given(**_values_for(user)))


def _signatory_lists(p) -> list[Worklist]:
    def to_sign() -> Q:
        mine = _member_customers(p, is_signatory=True)
        return mine & Q(state=State.AWAITING_SIGNATURE) & _addendum_issued(Addendum.RenderStatus.READY)

    return [Worklist("sign", _("Contract addenda to accept"), to_sign)]


def account_manager_worklist(user) -> list[Worklist]:
    """The account manager's customers' orders that wait for them, one list per step."""
    return _account_manager_lists(given(**_values_for(user)))


def _account_manager_lists(p) -> list[Worklist]:
    def managed(state: str, *more: Q) -> Q:
        condition = Q(customer__account_manager_id=p.user) & Q(state=state)
        for also in more:
            condition &= also
        return condition

    declined = _latest_action("decline")
    return [
        Worklist("review", _("To review"), lambda: managed(State.SUBMITTED, ~declined)),
        Worklist("reissue", _("Declined by the customer: issue again"), lambda: managed(State.SUBMITTED, declined)),
        # Only the account manager may generate a failed document again (services.addendum_render_again).
        Worklist(
            "failed",
            _("Addendum documents to generate again"),
            lambda: managed(State.AWAITING_SIGNATURE, _addendum_issued(Addendum.RenderStatus.FAILED)),
        ),
        Worklist("establish", _("To establish"), lambda: managed(State.PROVISIONING)),
        Worklist(
            "close",
            _("Closure requests"),
            lambda: managed(State.CLOSURE_REQUESTED, Q(closure_scheduled_on__isnull=True)),
        ),
        Worklist("rollover", _("New certificates to confirm"), lambda: managed(State.ACTIVE, _rollover_waiting(p))),
    ]


def support_worklist(user, today: datetime.date | None = None) -> list[Worklist]:
    """Emergency closures customers asked for (support's to carry out), certificates about to expire."""
    if not is_support(user):
        return []
    return _support_lists(given(**_values_for(user, today)))


def _support_lists(p) -> list[Worklist]:
    return [
        Worklist(
            "emergency",
            _("Emergency closures requested"),
            # The FSM's source states of "emergency_close".
            lambda: Q(state__in=ACCESS_AGREED_STATES, emergency_requested_at__isnull=False),
        ),
        Worklist("expiring", _("Certificates expiring"), lambda: _certificate_expires_by(p)),
    ]


def _lists(p, customer_user: bool, support: bool, account_manager: bool) -> list[Worklist]:
    # The lists of the roles held (the shape of the prepared statements below), in the order the start page shows.
    lists = []
    if customer_user:
        lists += _orderer_lists(p) + _signatory_lists(p)
    if support:
        lists += _support_lists(p)
    if account_manager:
        lists += _account_manager_lists(p)
    return lists


class UserWorklists(list):
    """`worklists_of`'s answer: the lists, and what they were built from (the roles the user holds, as the
    prepared statements' shape, and the values), so that their counts and first orders are asked with SQL
    compiled once per process (worklist_counts, worklists_shown)."""

    def __init__(self, roles: tuple[bool, bool, bool], values: dict) -> None:
        super().__init__(_lists(given(**values), *roles))
        self.roles = roles
        self.values = values


def worklists_of(user) -> list[Worklist]:
    """Every worklist of every role the user holds; most users hold one.

    Kept on the user object, which lives as long as the request (like accounts.roles._standing): a new role
    counts from the next request. The lists are conditions, so what they hold is always asked anew."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_opus_worklists", None)  # the menu's badge and the order list's filter both ask
    if cached is not None:
        return cached
    # The roles are known from the menu's one query (accounts.roles._standing).
    lists = UserWorklists((is_customer_user(user), is_support(user), is_account_manager(user)), _values_for(user))
    user._opus_worklists = lists
    return lists


def worklist_counts(lists: list[Worklist]) -> dict[str, int]:
    """How many orders each list holds, up to "more than 99" (core.counting), in one query however many lists.

    Each list is a COUNT of its own, planned on its own, so the database answers it from the indexes its
    condition names (customer and state, the few pending chains, the few events of a kind) instead of testing
    every list's condition against every order; and it stops after 100 orders, so the menu's badge on every
    page costs the same at 100 orders as at 10,000. A user's lists (worklists_of) are asked with SQL compiled
    once per process.
    """
    if isinstance(lists, UserWorklists):
        return run_bounded_counts(_COUNTS.statement(shape=(counting.COUNT_SHOWN_UP_TO, *lists.roles), **lists.values))
    return bounded_counts(_counted(lists))


def _counted(lists: list[Worklist]) -> dict[str, QuerySet[AccessOrder]]:
    return {wl.key: AccessOrder.objects.filter(wl.condition) for wl in lists}


# Their shape: the bound ("99+", a setting of core.counting) and the roles held.
_COUNTS = PreparedStatement(lambda p, up_to, *roles: bounded_counts_statement(_counted(_lists(p, *roles)), up_to))
_FIRSTS = PreparedStatement(
    lambda p, up_to, *roles: bounded_firsts_statement({wl.key: wl.orders for wl in _lists(p, *roles)}, up_to)
)


def worklists_shown(lists: list[Worklist], n: int) -> list[tuple[Worklist, int, list[AccessOrder]]]:
    """Each list with its count (up to "more than 99", as worklist_counts) and its first `n` orders, with only what
    the start page names of each (ordering/_worklists.html: reference, customer, system, vendor): two queries
    however many lists, one when none holds anything.

    The first finds each list's first ids in its order (core.counting.bounded_firsts: the count is how many came
    back), the second reads the orders shown. A query per list cost as much again per list as the counts.
    """
    if isinstance(lists, UserWorklists):
        firsts = run_bounded_firsts(_FIRSTS.statement(shape=(counting.COUNT_SHOWN_UP_TO, *lists.roles), **lists.values))
    else:
        firsts = bounded_firsts({wl.key: wl.orders for wl in lists})
    shown_ids = {pk for ids in firsts.values() for pk in ids[:n]}
    orders = {order.pk: order for order in _WORKLIST_ROWS.all(ids=sorted(shown_ids))}
    return [(wl, len(firsts[wl.key]), [orders[pk] for pk in firsts[wl.key][:n]]) for wl in lists]


_WORKLIST_ROWS = Prepared(  # what ordering/_worklists.html names of each order (reference, customer, system, vendor)
    lambda p: (
        AccessOrder.objects.filter(pk__in=p.list("ids"))
        .select_related("customer", "external_system__vendor")
        # The state too: the FSM's concurrency guard reads it as each order is made (ConcurrentTransitionMixin).
        .only("state", "customer__name", "external_system__name", "external_system__vendor__name")
        .order_by()
    )
)


def memberships_of(user) -> list[CustomerMembership]:
    """The user's memberships with their customers and each customer's account manager, by customer name: what the
    start page says of the customers (whom to contact, whether the user may order) in one query, not two."""
    return _MEMBERSHIPS_OF.all(user=user.pk)


_MEMBERSHIPS_OF = Prepared(
    lambda p: (
        CustomerMembership.objects.filter(user_id=p.user)
        .select_related("customer__account_manager")
        .order_by("customer__name", "customer_id")
    )
)


def customers_of_member(user) -> QuerySet[Customer]:
    """The customers a user is an orderer or signatory of, with their account manager (the customer's contact)."""
    return Customer.objects.filter(memberships__user=user).select_related("account_manager").distinct()
