from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Count, prefetch_related_objects
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import (
    can_see_orders,
    is_account_manager,
    is_catalogue_admin,
    is_customer_user,
    is_support,
    is_user_admin,
)
from audit.models import AuditEvent
from core.form_tokens import Outcome
from core.http import allowed_if, posted_form_view, show_refusal, submit_or_refuse
from core.models import OutboxMessage
from core.pagination import BoundedPaginator
from core.prepared import Prepared, attach

from . import consulting, lifecycle, people, thread
from .clarifications import AccessClarificationForm, access_clarification_record, clarification_offered
from .exports import order_export
from .filters import SORT_KEYS, OrderFilter, order_list_queryset
from .forms import CustomerChoiceForm, EmergencyClosureRequestForm, ExternalSystemForm, OrderForm, TestAccessExtendForm
from .models import (
    AccessClarification,
    AccessOrder,
    Addendum,
    ConsultingRequest,
    ExternalSystem,
    IntegrationPackage,
    Interface,
    State,
    TestAccess,
)
from .roles import Role, order_roles
from .selectors import (
    account_manager_queue_page,
    addendum_for_user,
    customer_orders,
    customer_to_order_for,
    customers_for_orderer,
    first_emergency_closure_requests,
    memberships_of,
    order_for_user,
    orders_listed,
    orders_visible_to,
    own_system_for_user,
    own_systems_visible_to,
    support_accesses,
    systems_available_to,
    worklists_of,
    worklists_shown,
)
from .services import (
    addendum_render_again,
    draft_edit_refusal,
    emergency_request_refusal,
    external_system_register,
    integration_type_for,
    order_create,
    order_create_from_test_access,
    order_request_emergency_closure,
    order_update_draft,
    overlapping_open_order,
    production_order_offered,
    test_access_extend,
)
from .steps import order_steps
from .transitions import TRANSITIONS, ActionForm, transitions_offered

PAGE_SIZE = 25
WORKLIST_SHOWN = 10  # the start page lists this many of each worklist; the rest are a link away
MAX_PAGE = 100_000  # 2.5 million orders: a page number past it is past the end of any list
QUEUE_PAGES_COUNTED = 10  # the account manager's queue is counted this many pages past the one shown


def _page(request: HttpRequest, qs, param: str = "page", *, count: int | None = None, times: bool = False):
    # The page's ids first (a subquery the index answers), then only their rows: a deep page
    # (?page=200) skips thousands of index entries instead of sorting thousands of joined rows.
    paginator = Paginator(qs.values_list("pk", flat=True), PAGE_SIZE)
    if count is not None:  # the caller has counted the rows already: not a COUNT again
        paginator.count = count
    page = paginator.get_page(request.GET.get(param))
    # The 25 ids as values: `pk IN (subquery)` would make the database work out the list's conditions twice.
    page.object_list = orders_listed(list(page.object_list), times=times)
    return page


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not can_see_orders(user) and not is_catalogue_admin(user):
        # Logged in with MitID Erhverv for a customer, but given no role there yet: say whom to ask.
        waiting_at = people.customers_waiting_for(user)
        if waiting_at:
            return render(request, "ordering/no_rights.html", {"waiting_at": waiting_at})
    if is_support(user) and request.headers.get("HX-Request") and request.GET.get("target") == "support":
        # Support's search as it is typed gets its table alone, without the worklists and sections around it
        # (each keystroke a request: this halves its CPU).
        return render(request, "ordering/_support_table.html", _support_search(request))
    worklists = worklists_shown(worklists_of(user), WORKLIST_SHOWN)
    # Each waiting list with its count and its first orders; the menu's count is their sum.
    context: dict = {
        "worklists": [(wl, count, orders) for wl, count, orders in worklists if count],
        "waiting_count": sum(count for _wl, count, _orders in worklists),
    }
    # The sections follow the predicates the menu uses (accounts/roles.py); home.html asks the same ones.
    memberships: list | None = None  # read once for the customers' sections and the user administrator's
    if is_customer_user(user):
        mine = customer_orders(user)
        state = request.GET.get("state", "")
        # COUNT(*), not COUNT(DISTINCT id): the customers are an IN, so no order comes twice, and the database
        # counts from the (customer, state) index alone instead of reading every order of the customer.
        by_state = {row["state"]: row["n"] for row in mine.order_by().values("state").annotate(n=Count("pk"))}
        context["state_counts"] = [(s, label, by_state.get(s, 0)) for s, label in State.choices if by_state.get(s)]
        context["selected_state"] = state
        # The state counts are the list's count too: the whole list, or the one state chosen.
        shown = by_state.get(state, 0) if state in State.values else sum(by_state.values())
        context["customer_page"] = _page(
            request, mine.filter(state=state) if state in State.values else mine, count=shown
        )
        memberships = memberships_of(user)
        context["can_order"] = any(m.is_orderer for m in memberships)  # as customers_for_orderer, the order form's
        context["support_contact"] = support_contact()
        context["contact_customers"] = [m.customer for m in memberships]  # as customers_of_member
    if is_user_admin(user):
        context["people_waiting"] = people.people_waiting(user, memberships)
        context["waiting_count"] += sum(n for _customer, n in context["people_waiting"])  # the menu's badge
    if is_account_manager(user):
        context["queue_page"] = _queue_page(request, user)
        # Requests for help wait on the start page until answered (ordering/consulting.py); the menu counts them.
        context["help_requests"] = consulting.first_open_requests_for_account_manager(user, WORKLIST_SHOWN)
        context["help_requests_count"] = (
            len(context["help_requests"])
            if len(context["help_requests"]) < WORKLIST_SHOWN
            else consulting.open_requests_for_account_manager(user).count()
        )
        context["waiting_count"] += context["help_requests_count"]
    if is_support(user):
        context.update(_support_search(request))
        # The first requests with their reasons, at once; the rest are the "emergency" worklist's, counted there.
        context["emergency_requests"] = first_emergency_closure_requests(user, WORKLIST_SHOWN)
        context["emergency_count"] = next((n for wl, n, _orders in worklists if wl.key == "emergency"), 0)
        context["outbox_dead"] = OutboxMessage.objects.filter(status=OutboxMessage.Status.DEAD).count()
    return render(request, "ordering/home.html", context)


def _queue_page(request: HttpRequest, user) -> Page:
    """A page of the account manager's queue, as _page pages a list: a number that is no page gives the first page,
    one past the end the last. It is counted only QUEUE_PAGES_COUNTED pages past the one shown ("Page 1 of 11+"
    beyond that), so the page no longer sorts and counts every order waiting (at 20,000 orders 42.6 → 29.4 ms)."""
    try:
        # A number far past any queue is past the end, as every other: no OFFSET the database cannot hold.
        number = min(max(int(request.GET.get("queue_page", 1)), 1), MAX_PAGE)
    except ValueError:
        number = 1

    def read(number: int) -> tuple[list, BoundedPaginator]:
        offset = (number - 1) * PAGE_SIZE
        counted_up_to = offset + QUEUE_PAGES_COUNTED * PAGE_SIZE
        orders, count = account_manager_queue_page(user, offset, PAGE_SIZE, count_up_to=counted_up_to)
        # A range counts itself: no COUNT query.
        return orders, BoundedPaginator(range(count), PAGE_SIZE, more=count > counted_up_to)

    orders, paginator = read(number)
    if not orders and number > paginator.num_pages:  # past the end (the queue may have shrunk since the link)
        number = paginator.num_pages
        orders, paginator = read(number)
    page = paginator.get_page(number)
    page.object_list = orders
    return page


def _support_search(request: HttpRequest) -> dict:
    """Support's search over the open and active accesses: the start page's section, and its htmx answer."""
    query = request.GET.get("q", "")
    return {
        "support_query": query,
        "support_page": _page(request, support_accesses(request.user, query), "support_page"),
    }


def _order_filter(request: HttpRequest) -> OrderFilter:
    if not can_see_orders(request.user):
        raise PermissionDenied
    return OrderFilter(request.GET, queryset=order_list_queryset(request.user), request=request)


@login_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    filters = _order_filter(request)
    return render(
        request,
        "ordering/order_list.html",
        {
            "page": _page(request, filters.qs, times=True),
            "filter": filters,
            "sorting": sort_links(request),
            "export_query": _without(request, "page"),
        },
    )


def _without(request: HttpRequest, *names: str) -> str:
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


def sort_links(request: HttpRequest) -> dict[str, dict]:
    """Each sortable column's link (the other direction when it is the current sort) and its aria-sort."""
    current = request.GET.get("sort", "")
    links = {}
    for key in SORT_KEYS:
        params = request.GET.copy()
        params.pop("page", None)
        direction = "ascending" if current == key else "descending" if current == f"-{key}" else ""
        params["sort"] = f"-{key}" if current == key else key
        links[key] = {"url": f"?{params.urlencode()}", "aria": direction}
    return links


@login_required
@require_GET
def order_list_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The filtered list as a spreadsheet, every row the user may see (orders_visible_to), formula-safe."""
    return order_export(_order_filter(request).qs, fmt)


@login_required
@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    interfaces = Interface.objects.select_related("replaced_by").order_by("kind", "name_da")
    packages = IntegrationPackage.objects.select_related("external_system").prefetch_related("interfaces")
    systems = (
        ExternalSystem.objects.filter(owner__isnull=True)
        .select_related("vendor")
        .prefetch_related("standard_interfaces")
        .order_by("category", "name")
    )
    return render(
        request, "ordering/catalogue.html", {"interfaces": interfaces, "packages": packages, "systems": systems}
    )


def _ordering_customer(request: HttpRequest):
    """The customer this orderer is ordering for (chosen, or their first) and all they may order for."""
    return customer_to_order_for(request.user, request.GET.get("customer") or request.POST.get("customer"))


@login_required
@require_GET
@allowed_if(can_see_orders)
def system_list(request: HttpRequest) -> HttpResponse:
    """The systems customers registered themselves: a customer's own, or for KMD those of the customers it serves."""
    systems = own_systems_visible_to(request.user).order_by("owner__name", "name")
    return render(
        request,
        "ordering/system_list.html",
        {"systems": systems, "can_register": customers_for_orderer(request.user).exists()},
    )


@login_required
@require_GET
def system_detail(request: HttpRequest, pk: int) -> HttpResponse:
    system = own_system_for_user(request.user, pk)
    orders = orders_visible_to(request.user).filter(external_system=system)
    return render(request, "ordering/system_detail.html", {"system": system, "orders": orders})


@login_required
def system_create_view(request: HttpRequest) -> HttpResponse:
    """An orderer registers a system the catalogue does not list, then orders access for it."""
    customer, customers = _ordering_customer(request)
    form = ExternalSystemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():

        def register() -> Outcome:
            system = external_system_register(actor=request.user, customer=customer, **form.cleaned_data)
            url = f"{reverse('ordering:order_create')}?customer={customer.pk}&external_system={system.pk}"
            return Outcome(url, _("%(system)s is registered. Now order its access.") % {"system": system.name})

        response = submit_or_refuse(request, register, form=form, action="system_register", customer=customer.pk)
        if response is not None:
            return response
    return render(
        request,
        "ordering/system_form.html",
        {
            "form": form,
            "customer": customer,
            "customer_form": _customer_chooser(customer, customers),
        },
        status=400 if request.method == "POST" else 200,
    )


def _customer_chooser(customer, customers) -> CustomerChoiceForm | None:
    """The "for which organisation" form, for someone who orders for more than one (ordering/_customer_chooser.html)."""
    return CustomerChoiceForm(initial={"customer": customer}, customers=customers) if customers.count() > 1 else None


@login_required
def order_create_view(request: HttpRequest) -> HttpResponse:
    customer, customers = _ordering_customer(request)
    # "Register my system" comes back here with the new system chosen; only the customer's choices can be.
    wanted = request.GET.get("external_system", "")
    chosen = systems_available_to(customer).filter(pk=wanted).first() if wanted.isdigit() else None
    initial = {"external_system": chosen} if chosen else None
    copied = _order_to_copy(request, customers)
    if copied is not None:
        customer, initial = copied.customer, OrderForm.copy_of(copied)
    # A new form ticks the chosen standard system's standard interfaces; a posted one keeps what was sent.
    form = OrderForm(request.POST or None, customer=customer, initial=initial, prefill_standard=not request.POST)
    if request.method == "POST" and form.is_valid():

        def create() -> Outcome:
            order = order_create(actor=request.user, customer=customer, facts=form.cleaned_data)
            return Outcome(order.get_absolute_url(), _("The order was saved as a draft. Check it and submit it."))

        response = submit_or_refuse(request, create, form=form, action="order_create", customer=customer.pk)
        if response is not None:
            return response
    return _order_form_page(
        request, form, customer, customer_form=_customer_chooser(customer, customers), copied=copied
    )


def _order_form_page(request: HttpRequest, form: OrderForm, customer, *, order=None, **context) -> HttpResponse:
    """The order form, new or a draft's: with what the answers so far mean and the fields that apply to them."""
    if order is not None:
        context["order"] = order
    context.update(
        form=form, customer=customer, preview=_preview(customer, form, order), applies=form.applicable_fields()
    )
    return render(request, "ordering/order_form.html", context, status=400 if request.method == "POST" else 200)


def _order_to_copy(request: HttpRequest, customers) -> AccessOrder | None:
    """The order "Copy to a new order" starts from: one the user can see, at a customer they order for."""
    wanted = request.GET.get("copy", "")
    if not wanted.isdigit():
        return None
    order = order_for_user(request.user, int(wanted))
    if not customers.filter(pk=order.customer_id).exists():
        raise PermissionDenied
    return order


@login_required
def order_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    # The form names the account manager when the answers need their advice (_preview).
    order = order_for_user(request.user, pk, related=("customer__account_manager",))
    refused = draft_edit_refusal(order=order, actor=request.user)
    if refused is not None:
        show_refusal(request, refused, action="order_edit", order=order.pk)
        return redirect("ordering:order_detail", pk=order.pk)
    form = OrderForm(request.POST or None, customer=order.customer, initial=OrderForm.initial_from(order))
    if request.method == "POST" and form.is_valid():

        def save() -> Outcome:
            order_update_draft(order=order, actor=request.user, facts=form.cleaned_data)
            return Outcome(order.get_absolute_url(), _("The draft was saved."))

        response = submit_or_refuse(request, save, form=form, action="order_edit", order=order.pk)
        if response is not None:
            return response
    return _order_form_page(request, form, order.customer, order=order)


def _preview(customer, form: OrderForm, order: AccessOrder | None = None) -> dict:
    """What the current answers mean: packages for the system, the integration type and the price.

    It runs the rules saving runs (OrderForm.clean): when they refuse what was chosen, the preview says so and
    quotes no price, rather than a price that saving would refuse or one that leaves out what is ticked.
    """
    problems = []
    if form.is_bound:
        problems = form.problems_with_answers()  # validates the form
        data = form.answers or form.cleaned_data
    else:
        data = {**form.initial}
    system = data.get("external_system")
    if system is None:
        return {}
    package = data.get("package") if data.get("purchase_model") == AccessOrder.PurchaseModel.PACKAGE else None
    interfaces = list(data.get("interfaces") or []) if not package else []
    # Standard or individual only once something is chosen: nothing ticked is no standard integration yet.
    chosen = bool(package or interfaces) or not system.is_standard
    integration_type = integration_type_for(system, interfaces, package, agreed=form.standard_interface_ids)
    if package:
        prefetch_related_objects([package], "interfaces")  # kept with the package: its quote lists them too
    requested = list(package.interfaces.all()) if package else interfaces
    changes = data.get("changes_order") if data.get("reason") == AccessOrder.Reason.CHANGE else None
    overlap = None
    if requested and data.get("environment"):
        overlap = overlapping_open_order(
            customer_id=customer.pk,
            external_system_id=system.pk,
            environment=data["environment"],
            interface_ids=[i.pk for i in requested],
            exclude_ids=[pk for pk in (getattr(order, "pk", None), getattr(changes, "pk", None)) if pk],
        )
    # Read with the system: the comparison (billing/comparison.py) lists the same packages.
    prefetch_related_objects([system], "packages")
    quote, comparison = (None, None) if problems else lifecycle.billing().quote_preview(customer=customer, facts=data)
    return {
        "system": system,
        "packages": list(system.packages.all()),
        "chosen": chosen,
        "integration_type": AccessOrder.IntegrationType(integration_type).label,
        "individual": chosen and integration_type == AccessOrder.IntegrationType.INDIVIDUAL,
        "overlap": overlap,
        "problems": problems,
        "quote": quote,
        # Single purchase beside the system's packages for the same interfaces (billing/comparison.py).
        "comparison": comparison,
        "account_manager": customer.account_manager,
    }


@login_required
@require_GET
def order_form_preview(request: HttpRequest) -> HttpResponse:
    customer, _customers = _ordering_customer(request)
    form = OrderForm(request.GET, customer=customer, prefill_standard=True)
    order = None
    if request.GET.get("order", "").isdigit():
        order = order_for_user(request.user, int(request.GET["order"]))
    # The preview, and the fields that apply to the answers so far as out-of-band swaps (htmx).
    context = {
        "preview": _preview(customer, form, order),
        "form": form,
        "customer": customer,
        "applies": form.applicable_fields(),
    }
    return render(request, "ordering/_order_form_live.html", context)


# The people the order page names, read with the order: who confirmed the agreement with the vendor, the
# customer's account manager (the customer's contacts, the advice on a phase-out), who extended the test access.
ORDER_PAGE_RELATIONS = ("vendor_agreement_confirmed_by", "customer__account_manager", "test_access__extended_by")


@login_required
@require_GET
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = order_for_user(request.user, pk, related=ORDER_PAGE_RELATIONS)
    return render(request, "ordering/order_detail.html", _detail_context(request, order))


def support_contact() -> dict:
    """KMD Opus Personale support, as customers are told to reach them (settings SUPPORT_PHONE, SUPPORT_EMAIL)."""
    return {"phone": settings.SUPPORT_PHONE, "email": settings.SUPPORT_EMAIL}


def _emergency_request_form(order: AccessOrder, roles: set, failed: EmergencyClosureRequestForm | None):
    """The customer's "Request emergency closure" form, when the rule offers it (emergency_request_refusal)."""
    if emergency_request_refusal(order, roles) is not None:
        return None
    return failed or EmergencyClosureRequestForm()


def _action_forms(request: HttpRequest, order: AccessOrder, failed: ActionForm | None) -> list[ActionForm]:
    """A form for each action this user may take now (ordering/transitions.py), the one just refused as sent."""
    return [
        failed if failed is not None and failed.spec is spec else spec.bind(order=order, user=request.user)
        for spec in transitions_offered(order, request.user)
    ]


def _reason(events: list, roles: set) -> dict | None:
    """The comment of the latest lifecycle action, when it is a reason these roles must act on."""
    latest = next((event for event in reversed(events) if event.kind in TRANSITIONS), None)
    spec = TRANSITIONS[latest.kind] if latest else None
    if spec is None or not spec.reason_label or not (roles & spec.reason_for):
        return None
    return {"label": spec.reason_label, "event": latest}


def _may_run_now(request: HttpRequest, order: AccessOrder, form: ActionForm) -> bool:
    return form.is_offered() and form.changed_meanwhile() is None


def order_page(request: HttpRequest, order: AccessOrder, *, money_forms: dict | None = None) -> HttpResponse:
    """The order page again after a form on it failed: the form as sent, with its errors by its fields."""
    context = _detail_context(request, order)
    if money_forms and context["money"]:
        context["money"].update(money_forms)
    return render(request, "ordering/order_detail.html", context, status=400)


# The order page's reads of the order's own rows, each the same question for every order: compiled once per process
# (core/prepared.py), they cost the page 3–4 ms of the ORM's Python less.
_ADDENDA = Prepared(
    lambda p: Addendum.objects.filter(order_id=p.order).select_related("issued_by", "decided_by").order_by("-version")
)
_CONSULTING_REQUESTS = Prepared(
    lambda p: ConsultingRequest.objects.filter(order_id=p.order).select_related("requested_by")
)
_REPLACED_BY = Prepared(
    lambda p: AccessOrder.objects.filter(replaces_order_id=p.order).select_related("external_system")
)
_HISTORY = Prepared(
    lambda p: (
        AuditEvent.objects.filter(order_id=p.order)
        .exclude(kind__in=thread.THREAD_KINDS)  # the thread's messages are shown in the thread (ordering/thread.py)
        .select_related("actor")
        .order_by("seq")
    )
)


def _detail_context(
    request: HttpRequest,
    order: AccessOrder,
    failed: ActionForm | None = None,
    failed_request: EmergencyClosureRequestForm | None = None,
) -> dict:
    # Each read once for the whole page. The versions, newest first: the table shows them, the accept form finds
    # the one to sign, the money section the newest frozen quote. The requests for help: listed, and they decide
    # whether consulting may be recorded. The orders replacing this one, each with its system.
    # Kept as prefetch_related keeps them (order.addenda.all() …), read by queries compiled once (core/prepared.py).
    for relation, rows in (
        ("addenda", _ADDENDA.all(order=order.pk)),
        ("consulting_requests", _CONSULTING_REQUESTS.all(order=order.pk)),
        ("replaced_by_orders", _REPLACED_BY.all(order=order.pk)),
    ):
        attach(order, relation, rows)
    forms = _action_forms(request, order, failed)
    roles = order_roles(request.user, order)
    individual = order.integration_type == AccessOrder.IntegrationType.INDIVIDUAL
    certificates = lifecycle.certificates().order_section(order, request.user) if individual else None
    events = _HISTORY.all(order=order.pk)
    interfaces = order.requested_interfaces()
    return {
        "order": order,
        "money": lifecycle.billing().order_section(order, roles, interfaces=interfaces),
        "certificates": certificates,
        "interfaces": interfaces,
        "events": events,
        "reason": _reason(events, roles),
        "steps": order_steps(order, next((e.kind for e in reversed(events) if e.kind in TRANSITIONS), None)),
        "addenda": list(order.addenda.all()),
        "is_account_manager": Role.ACCOUNT_MANAGER in roles,
        "action_forms": forms,
        "can_edit": draft_edit_refusal(order=order, actor=request.user) is None,
        "can_copy": Role.ORDERER in roles,
        # The form when the rule offers it (emergency_request_refusal), or the notice of a request already made.
        "show_emergency_request": emergency_request_refusal(order, roles) is None
        or (bool(roles & {Role.ORDERER, Role.SIGNATORY}) and order.emergency_request_open),
        "emergency_request_form": _emergency_request_form(order, roles, failed_request),
        "support_contact": support_contact(),
        # Help from KMD about this order (ordering/consulting.py): asked before, during or after the project.
        "consulting_requests": list(order.consulting_requests.all()),
        "can_ask_for_help": not consulting.asking_refusal(request.user, order),
        # The customer's people see whom to contact about this order; KMD's staff are those contacts.
        "contact_customers": [order.customer] if roles & {Role.ORDERER, Role.SIGNATORY} else [],
        **_test_access_context(order, roles),
        **_clarification_context(order, roles, interfaces),
        # A long thread shows its newest messages, all of them when asked (the link above them).
        **thread.thread_context(order, request.user, everything=request.GET.get("thread") == "all"),
    }


def _clarification_context(
    order: AccessOrder, roles: set, interfaces: list, failed: AccessClarificationForm | None = None
) -> dict:
    """Individual integration: the clarification of access rights, and the account manager's form for it."""
    if order.integration_type != AccessOrder.IntegrationType.INDIVIDUAL:
        return {"show_clarification": False, "clarification": None, "clarification_form": None}
    clarification = (
        AccessClarification.objects.filter(order=order)
        .select_related("recorded_by")
        .prefetch_related("interfaces")
        .first()
    )
    form = None
    if clarification_offered(order, roles):
        form = failed or AccessClarificationForm(order=order, interfaces=interfaces, clarification=clarification)
    return {"show_clarification": True, "clarification": clarification, "clarification_form": form}


@login_required
@require_POST
def access_clarification_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The account manager records which interfaces, which data and which certificate the access covers."""
    order = order_for_user(request.user, pk)
    interfaces = order.requested_interfaces()
    form = AccessClarificationForm(request.POST, order=order, interfaces=interfaces)
    roles = order_roles(request.user, order)
    if not form.is_valid() and clarification_offered(order, roles):
        context = _detail_context(request, order)
        context.update(_clarification_context(order, roles, interfaces, form))
        return render(request, "ordering/order_detail.html", context, status=400)

    def record() -> Outcome:
        access_clarification_record(
            order=order,
            actor=request.user,
            interfaces=list(form.cleaned_data.get("interfaces") or []),
            data_scope=form.cleaned_data.get("data_scope", ""),
        )
        return Outcome(
            order.get_absolute_url(), _("The clarification of access rights is recorded. The addendum will state it.")
        )

    return submit_or_refuse(
        request, record, refused=order.get_absolute_url(), action="access_clarification", order=order.pk
    )


@login_required
@require_POST
def order_transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Every lifecycle action: its spec's form, validated, becomes its spec's service call."""
    order = order_for_user(request.user, pk)
    spec = TRANSITIONS.get(action)
    if spec is None:
        raise Http404("No such action")
    form = spec.bind(request.POST, order=order, user=request.user)
    if not form.is_valid():
        return render(request, "ordering/order_detail.html", _detail_context(request, order, form), status=400)
    if spec.needs_confirming and request.POST.get("confirmed") != "1" and _may_run_now(request, order, form):
        # Without JavaScript the modal cannot ask: the consequence on a page of its own, nothing done yet.
        # An action the user may not run now goes straight on to its refusal instead.
        posted = [(k, v) for k, values in request.POST.lists() if k != "csrfmiddlewaretoken" for v in values]
        context = {"order": order, "spec": spec, "form": form, "posted": posted}
        return render(request, "ordering/confirm_action.html", context)

    def act() -> Outcome:
        # Checked here, not before: a form sent twice gets the first one's answer, not this refusal.
        changed = form.changed_meanwhile()
        if changed is not None:
            raise changed
        spec.run(order=order, actor=request.user, **form.service_kwargs(request))
        return Outcome(order.get_absolute_url(), str(spec.success))

    return submit_or_refuse(request, act, refused=order.get_absolute_url(), action=spec.name, order=order.pk)


def _ask_for_emergency_closure(actor, order: AccessOrder, data: dict) -> Outcome:
    """The customer asks support to close the access at once; support act (the emergency_close action)."""
    order_request_emergency_closure(order=order, actor=actor, reason=data["reason"])
    return Outcome(
        order.get_absolute_url(),
        _("Support have been asked to close the access at once. Call them if it cannot wait."),
    )


order_request_emergency_closure_view = posted_form_view(
    EmergencyClosureRequestForm,
    find=order_for_user,
    write=_ask_for_emergency_closure,
    again=lambda request, order, form: render(
        request, "ordering/order_detail.html", _detail_context(request, order, failed_request=form), status=400
    ),
    action="request_emergency_closure",
)


def addendum_download(addendum: Addendum, *, accepted: bool) -> FileResponse:
    """A version's PDF as an attachment – as issued, or the `accepted` copy – for the page and the API; 404 while
    it is not there. Only ever reached through the order's access check (`addendum_for_user`): no public URL."""
    stored = addendum.final_pdf if accepted else addendum.pdf
    if not stored:
        raise Http404("Not generated")
    suffix = "-accepteret" if accepted else ""
    return FileResponse(
        stored.open("rb"),
        as_attachment=True,
        filename=f"tillaeg-{addendum.number}{suffix}.pdf",
        content_type="application/pdf",
    )


@login_required
@require_GET
def addendum_document(request: HttpRequest, pk: int, version: int, copy: str) -> HttpResponse:
    """The PDF as an attachment, only through the order's access check; never a public URL."""
    if copy not in ("document", "accepted"):
        raise Http404("No such copy")
    return addendum_download(addendum_for_user(request.user, pk, version), accepted=copy == "accepted")


@login_required
@require_GET
def addendum_status(request: HttpRequest, pk: int, version: int) -> HttpResponse:
    """The document cell of the addenda table; htmx polls it while the PDF is being generated."""
    addendum = addendum_for_user(request.user, pk, version)
    roles = order_roles(request.user, addendum.order)
    response = render(
        request,
        "ordering/_addendum_document.html",
        {"addendum": addendum, "order": addendum.order, "is_manager": Role.ACCOUNT_MANAGER in roles},
    )
    if addendum.render_status == Addendum.RenderStatus.READY and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"  # the accept form appears once the document can be read
    return response


@login_required
@require_POST
def addendum_render_again_view(request: HttpRequest, pk: int, version: int) -> HttpResponse:
    addendum = addendum_for_user(request.user, pk, version)

    def render_again() -> Outcome:
        addendum_render_again(addendum=addendum, actor=request.user)
        return Outcome(addendum.order.get_absolute_url(), _("The document is being generated again."))

    return submit_or_refuse(
        request, render_again, refused=addendum.order.get_absolute_url(), action="render_again", order=pk
    )


# --- The startup package's test access -----------------------------------------------------------


def _test_access_context(order: AccessOrder, roles: set, failed: TestAccessExtendForm | None = None) -> dict:
    access = getattr(order, "test_access", None)  # read with the order (ordering/selectors.py, ORDER_PAGE_RELATIONS)
    if access is None:
        # Only a test access's order has production orders made from it (order_create_from_test_access).
        return {"test_access": None, "production_orders": []}
    access.order = order
    running = access.status == TestAccess.Status.ACTIVE
    return {
        "test_access": access,
        "test_access_form": (failed or TestAccessExtendForm()) if running and Role.ACCOUNT_MANAGER in roles else None,
        "can_order_production": Role.ORDERER in roles and production_order_offered(order),
        "production_orders": list(order.production_orders.all()),
    }


def _extend_test_access(actor, order: AccessOrder, data: dict) -> Outcome:
    access = test_access_extend(order=order, actor=actor, until=data["until"], reason=data["reason"])
    return Outcome(
        order.get_absolute_url(),
        _("The test access now ends on %(date)s.") % {"date": formats.date_format(access.ends_on, "SHORT_DATE_FORMAT")},
    )


def _with_failed_extension(request: HttpRequest, order: AccessOrder, form: TestAccessExtendForm) -> HttpResponse:
    context = _detail_context(request, order)
    context.update(_test_access_context(order, order_roles(request.user, order), form))
    return render(request, "ordering/order_detail.html", context, status=400)


test_access_extend_view = posted_form_view(
    TestAccessExtendForm,
    find=order_for_user,
    write=_extend_test_access,
    again=_with_failed_extension,
    action="test_access_extend",
)


@login_required
@require_POST
def order_from_test_access_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Order production access from a test access: a linked production draft, opened for the orderer to check."""
    test_order = order_for_user(request.user, pk)

    def create() -> Outcome:
        order = order_create_from_test_access(test_order=test_order, actor=request.user)
        return Outcome(
            reverse("ordering:order_edit", args=[order.pk]),
            _("A production draft was made from the test access. Check it and save it, then submit it."),
        )

    return submit_or_refuse(
        request, create, refused=test_order.get_absolute_url(), action="order_from_test_access", order=test_order.pk
    )
