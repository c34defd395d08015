from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import can_see_billing_runs, can_see_orders
from core.exports import csv_download
from core.form_tokens import Outcome
from core.http import allowed_if, posted_form_view, submit_or_refuse
from ordering.consulting import request_for_user
from ordering.consulting_views import request_page
from ordering.selectors import order_for_user
from ordering.views import order_page

from . import services
from .forms import ConsultingForm, QuoteAdjustmentForm, StartupUsageForm
from .models import InvoiceLine, RecurringFee
from .selectors import (
    invoice_for_user,
    invoices_visible_to,
    licences_visible_to,
    runs_visible_to,
    systems_covered_after_fee,
)


def _money_url(order) -> str:
    return f"{order.get_absolute_url()}#money"


def _money_form_view(form_class, *, key: str, action: str, write, find=order_for_user, page=order_page, log="order"):
    """The view of a money form (`key` in the money section's context) on an order's page, or with `find` and
    `page` on another's (a request for help); core.http.posted_form_view says how it answers."""
    return posted_form_view(
        form_class,
        find=find,
        write=write,
        again=lambda request, found, form: page(request, found, money_forms={key: form}),
        action=action,
        log=log,
    )


def _adjust(actor, order, data) -> Outcome:
    services.quote_adjustment_add(order=order, actor=actor, **data)
    return Outcome(_money_url(order), _("The adjustment was added to the quote."))


def _record_consulting(actor, order, data) -> Outcome:
    services.consulting_record(order=order, actor=actor, **data)
    return Outcome(_money_url(order), _("The consulting hours were recorded and will be invoiced."))


def _record_startup_usage(actor, order, data) -> Outcome:
    usage = services.startup_usage_record(order=order, actor=actor, **data)
    if usage.meetings_exceeded or usage.qa_hours_exceeded:
        return Outcome(
            _money_url(order),
            _("More than the startup package includes has now been used: bill the rest as consulting."),
            messages.WARNING,
        )
    return Outcome(_money_url(order), _("The use of the startup package was recorded."))


quote_adjust_view = _money_form_view(QuoteAdjustmentForm, key="adjust_form", action="quote_adjust", write=_adjust)
consulting_view = _money_form_view(ConsultingForm, key="consulting_form", action="consulting", write=_record_consulting)
startup_usage_view = _money_form_view(
    StartupUsageForm, key="startup_form", action="startup_usage", write=_record_startup_usage
)


def _record_consulting_for_request(actor, found, data) -> Outcome:
    """Consulting against what a request for help was about: its order, or the customer without an order."""
    services.consulting_record(order=found.order, customer=found.customer, actor=actor, **data)
    here = f"{reverse('ordering:consulting_detail', args=[found.pk])}#consulting"
    return Outcome(here, _("The consulting hours were recorded and will be invoiced."))


consulting_for_request_view = _money_form_view(
    ConsultingForm,
    key="consulting_form",
    action="consulting",
    write=_record_consulting_for_request,
    find=request_for_user,
    page=request_page,
    log="consulting_request",
)


@login_required
@require_POST
def licence_end_view(request: HttpRequest, pk: int, fee_pk: int) -> HttpResponse:
    order = order_for_user(request.user, pk)
    fee = RecurringFee.objects.filter(pk=fee_pk, order=order).first()
    if fee is None:
        raise Http404("No such licence")

    def end() -> Outcome:
        services.licence_end(fee=fee, actor=request.user)
        return Outcome(_money_url(order), _("The licence has ended; billing of it stops today."))

    return submit_or_refuse(request, end, refused=_money_url(order), action="licence_end", order=order.pk)


@login_required
@require_GET
@allowed_if(can_see_orders)
def invoice_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(invoices_visible_to(request.user), 25).get_page(request.GET.get("page"))
    return render(request, "billing/invoice_list.html", {"page": page})


@login_required
@require_GET
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = invoice_for_user(request.user, pk)
    lines = invoice.lines.select_related("order")
    return render(request, "billing/invoice_detail.html", {"invoice": invoice, "lines": lines})


@login_required
@require_GET
@allowed_if(can_see_orders)
def licence_list(request: HttpRequest) -> HttpResponse:
    context = {
        "licences": licences_visible_to(request.user),
        "covered_systems": systems_covered_after_fee(request.user),
    }
    return render(request, "billing/licence_list.html", context)


@login_required
@require_GET
@allowed_if(can_see_billing_runs)
def run_list(request: HttpRequest) -> HttpResponse:
    runs = runs_visible_to(request.user)
    invoices = invoices_visible_to(request.user).filter(run__in=runs)
    summary = {
        row["run"]: row
        for row in invoices.order_by().values("run").annotate(n=Count("pk", distinct=True), total=Sum("total_excl_vat"))
    }
    return render(request, "billing/run_list.html", {"runs": [(run, summary.get(run.pk, {})) for run in runs[:36]]})


@login_required
@require_GET
def run_export(request: HttpRequest, pk: int) -> HttpResponse:
    run = runs_visible_to(request.user).filter(pk=pk).first()
    if run is None:
        raise Http404("No such run")
    invoices = invoices_visible_to(request.user).filter(run=run)
    lines = (
        InvoiceLine.objects.filter(invoice__in=invoices)
        .select_related("invoice", "order")
        .order_by("invoice__number", "pk")
    )
    response, writer = csv_download(f"fakturering-{run.period:%Y-%m}.csv")
    # In the reader's language, like the pages and the other exports; the file name stays Danish.
    writer.writerow(
        [
            _("Invoice"),
            _("Customer"),
            _("CVR number"),
            _("EAN number"),
            _("Reference person"),
            _("Order"),
            _("Requisition number"),
            _("Kind"),
            _("Description"),
            _("Amount excl. VAT"),
        ]
    )
    english = (get_language() or "da").startswith("en")
    for line in lines:
        invoice = line.invoice
        writer.writerow(
            [
                invoice.number,
                invoice.customer_name,
                invoice.cvr,
                invoice.ean,
                invoice.reference_person,
                line.order.reference if line.order else "",
                line.requisition_number,
                line.get_kind_display(),
                line.description_en if english else line.description_da,
                line.amount,  # a Decimal, written as a number: a credit line stays -120,50
            ]
        )
    return response
