import datetime
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import can_see_billing_runs, can_see_orders, can_start_billing_run
from core.errors import Refusal
from core.exports import csv_download
from core.form_tokens import Outcome
from core.http import allowed_if, posted_form_view, submit_or_refuse
from ordering.consulting import request_for_user
from ordering.consulting_views import request_page
from ordering.selectors import order_for_user
from ordering.views import order_page

from . import services
from .documents import invoice_filename, invoice_lines, invoice_pdf
from .exports import invoice_export
from .filters import InvoiceFilter
from .forms import BillingMonthForm, ConsultingForm, QuoteAdjustmentForm, StartupUsageForm
from .models import BillingRun, Invoice, InvoiceLine, RecurringFee
from .selectors import (
    customers_billed_for,
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


INVOICE_LINES_SHOWN = 50  # lines on one page of an invoice
LICENCES_SHOWN = 25  # licences on one page of the licence list


def _invoice_filter(request: HttpRequest) -> InvoiceFilter:
    return InvoiceFilter(request.GET, queryset=invoices_visible_to(request.user), request=request)


@login_required
@require_GET
@allowed_if(can_see_orders)
def invoice_list(request: HttpRequest) -> HttpResponse:
    filters = _invoice_filter(request)
    page = Paginator(filters.qs, 25).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request, "billing/invoice_list.html", {"page": page, "filter": filters, "export_query": params.urlencode()}
    )


@login_required
@require_GET
@allowed_if(can_see_orders)
def invoice_list_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The filtered list as a spreadsheet: every invoice the user may see (invoices_visible_to), formula-safe."""
    return invoice_export(_invoice_filter(request).qs, fmt)


@login_required
@require_GET
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The invoice's facts and totals (stored on it), and its lines a page at a time: an invoice to a large
    customer has hundreds of lines, which the PDF and the exports carry in full."""
    invoice = invoice_for_user(request.user, pk)
    page = Paginator(invoice_lines(invoice), INVOICE_LINES_SHOWN).get_page(request.GET.get("page"))
    return render(request, "billing/invoice_detail.html", {"invoice": invoice, "page": page})


@login_required
@require_GET
def invoice_document(request: HttpRequest, pk: int) -> HttpResponse:
    """The invoice as a PDF attachment, only through the invoice's access check (404 for anyone else)."""
    invoice = invoice_for_user(request.user, pk)
    response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice_filename(invoice)}"'
    return response


@login_required
@require_GET
@allowed_if(can_see_orders)
def licence_list(request: HttpRequest) -> HttpResponse:
    # A page of licences at a time, by customer and interface: across an account manager's customers they are many.
    licences = licences_visible_to(request.user).order_by("customer__name", "interface__name_da", "pk")
    context = {
        "page": Paginator(licences, LICENCES_SHOWN).get_page(request.GET.get("page")),
        "covered_systems": systems_covered_after_fee(request.user),
    }
    return render(request, "billing/licence_list.html", context)


def _next_period(today) -> datetime.date:
    """The month the next run bills: last month while it has not been billed, else this month (billed on the 1st)."""
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    return last_month if not BillingRun.objects.filter(period=last_month).exists() else today.replace(day=1)


def _preview_period(request: HttpRequest, today: datetime.date) -> tuple[BillingMonthForm, datetime.date]:
    """The month to preview: the one asked for (`?period=YYYY-MM`), else the next run's."""
    form = BillingMonthForm(
        request.GET or {"period": f"{_next_period(today):%Y-%m}"},
        today=today,
        label=_("Month to preview"),
        auto_id="preview-%s",  # two month fields on one page: ids of their own
    )
    return form, form.cleaned_data["period"] if form.is_valid() else _next_period(today)


def _preview_context(request: HttpRequest, period: datetime.date) -> dict:
    """The run's own calculation for the month, of the customers the user serves: it reads every fee and charge
    not billed yet, so it grows with the data like an export, and the page asks for it on its own (run_preview)."""
    try:
        preview, refusal = services.billing_preview(period=period, customers=customers_billed_for(request.user)), None
    except Refusal as refused:  # no price list in force for the month: the run would refuse the same
        preview, refusal = [], refused
    return {
        "preview_period": period,
        "preview": preview,
        "preview_refusal": refusal,
        "preview_total": sum((p.invoice.total_excl_vat for p in preview), Decimal(0)),
        "preview_loaded": True,
    }


def _billing_page(request: HttpRequest, run_form: BillingMonthForm | None = None, status: int = 200) -> HttpResponse:
    """The back office's billing page: a month's preview, starting a run, and the runs so far with their totals.
    Everything in it is of the customers the user serves.

    The page itself costs the same whatever the data; the preview, which reads every fee and charge not yet
    billed, is loaded into it after it is shown (htmx), or right in it when the reader chose a month (the
    form's GET, which also works without JavaScript)."""
    today = timezone.localdate()
    preview_form, period = _preview_period(request, today)
    runs = runs_visible_to(request.user)
    invoices = invoices_visible_to(request.user).filter(run__in=runs)
    summary = {
        row["run"]: row
        for row in invoices.order_by().values("run").annotate(n=Count("pk", distinct=True), total=Sum("total_excl_vat"))
    }
    context = {
        "preview_form": preview_form,
        "preview_period": period,
        "month_refusal": services.billing_run_refusal(period),
        "already_run": runs.filter(period=period).first(),
        "run_form": run_form
        or BillingMonthForm(
            initial={"period": f"{period:%Y-%m}"}, today=today, label=_("Month to bill"), auto_id="run-%s"
        ),
        "runs": [(run, summary.get(run.pk, {})) for run in runs[:36]],
    }
    if "period" in request.GET and run_form is None:
        context.update(_preview_context(request, period))
    return render(request, "billing/run_list.html", context, status=status)


@login_required
@require_GET
@allowed_if(can_see_billing_runs)
def run_list(request: HttpRequest) -> HttpResponse:
    return _billing_page(request)


@login_required
@require_GET
@allowed_if(can_see_billing_runs)
def run_preview(request: HttpRequest) -> HttpResponse:
    """The preview alone, for the billing page to load once it is shown."""
    _form, period = _preview_period(request, timezone.localdate())
    return render(request, "billing/_preview.html", _preview_context(request, period))


@login_required
@require_POST
@allowed_if(can_start_billing_run)
def run_start(request: HttpRequest) -> HttpResponse:
    """Bill a month from the billing page: the run itself, as the monthly task runs it, audited as this person's.
    Idempotent like every run; a month not ended is refused with the run's own sentence."""
    form = BillingMonthForm(request.POST, today=timezone.localdate(), label=_("Month to bill"), auto_id="run-%s")
    if not form.is_valid():
        return _billing_page(request, run_form=form, status=400)
    period = form.cleaned_data["period"]
    here = f"{reverse('billing:run_list')}?period={period:%Y-%m}"

    def start() -> Outcome:
        # Only for the message: the run itself decides what it bills, and runs of one month wait for each other.
        before = Invoice.objects.filter(period=period).count()
        run = services.billing_run(period=period, actor=request.user)
        made = run.invoices.count() - before
        month = formats.date_format(period, "YEAR_MONTH_FORMAT")
        if run.runs > 1 and made == 0:
            return Outcome(
                here,
                _("%(month)s had been billed already; this run billed nothing twice and made no new invoices.")
                % {"month": capfirst(month)},
                messages.INFO,
            )
        return Outcome(
            here,
            ngettext(
                "%(month)s was billed: %(count)s invoice was made.",
                "%(month)s was billed: %(count)s invoices were made.",
                made,
            )
            % {"month": capfirst(month), "count": made},
        )

    return submit_or_refuse(request, start, refused=here, action="billing_run")


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
