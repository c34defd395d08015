import csv
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ordering.selectors import order_for_user

from . import services
from .models import InvoiceLine, RecurringFee
from .selectors import invoice_for_user, invoices_visible_to, licences_visible_to, runs_visible_to


def _decimal(value: str) -> Decimal | None:
    try:
        return Decimal((value or "").replace(".", "").replace(",", ".").strip())
    except InvalidOperation:
        return None


def _back(order) -> HttpResponse:
    return redirect(f"{order.get_absolute_url()}#money")


@login_required
@require_POST
def quote_adjust_view(request: HttpRequest, pk: int) -> HttpResponse:
    order = order_for_user(request.user, pk)
    amount = _decimal(request.POST.get("amount", ""))
    if amount is None:
        messages.error(request, _("Write the amount as a number, e.g. -2500 or 1.250,50."))
        return _back(order)
    try:
        services.quote_adjustment_add(
            order=order,
            actor=request.user,
            kind=request.POST.get("kind", ""),
            amount=amount,
            reason=request.POST.get("reason", ""),
        )
    except services.BillingError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The adjustment was added to the quote."))
    return _back(order)


@login_required
@require_POST
def consulting_view(request: HttpRequest, pk: int) -> HttpResponse:
    order = order_for_user(request.user, pk)
    hours, day = _decimal(request.POST.get("hours", "")), parse_date(request.POST.get("on", "") or "")
    if hours is None or day is None:
        messages.error(request, _("Give the date (YYYY-MM-DD) and the hours as a number, e.g. 2,5."))
        return _back(order)
    try:
        services.consulting_record(
            order=order, actor=request.user, on=day, hours=hours, description=request.POST.get("description", "")
        )
    except services.BillingError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The consulting hours were recorded and will be invoiced."))
    return _back(order)


@login_required
@require_POST
def startup_usage_view(request: HttpRequest, pk: int) -> HttpResponse:
    order = order_for_user(request.user, pk)
    qa_hours = _decimal(request.POST.get("qa_hours", "0") or "0")
    meetings = request.POST.get("meetings", "0") or "0"
    if qa_hours is None or not meetings.isdigit():
        messages.error(request, _("Give the meetings as a whole number and the hours as a number."))
        return _back(order)
    try:
        usage = services.startup_usage_record(
            order=order, actor=request.user, meetings=int(meetings), qa_hours=qa_hours
        )
    except services.BillingError as error:
        messages.error(request, error.message)
    else:
        if usage.meetings_exceeded or usage.qa_hours_exceeded:
            messages.warning(
                request, _("More than the startup package includes has now been used: bill the rest as consulting.")
            )
        else:
            messages.success(request, _("The use of the startup package was recorded."))
    return _back(order)


@login_required
@require_POST
def licence_end_view(request: HttpRequest, pk: int, fee_pk: int) -> HttpResponse:
    order = order_for_user(request.user, pk)
    fee = RecurringFee.objects.filter(pk=fee_pk, order=order).first()
    if fee is None:
        raise Http404("No such licence")
    try:
        services.licence_end(fee=fee, actor=request.user)
    except services.BillingError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The licence has ended; billing of it stops today."))
    return _back(order)


@login_required
@require_GET
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
def licence_list(request: HttpRequest) -> HttpResponse:
    return render(request, "billing/licence_list.html", {"licences": licences_visible_to(request.user)})


@login_required
@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    runs = runs_visible_to(request.user)
    if not runs.exists() and not (request.user.is_support or request.user.managed_customers.exists()):
        raise PermissionDenied
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
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="fakturering-{run.period:%Y-%m}.csv"'
    response.write("\ufeff")  # Excel opens UTF-8 with a BOM correctly
    writer = csv.writer(response, delimiter=";")
    writer.writerow(
        [
            "faktura",
            "kunde",
            "cvr",
            "ean",
            "reference",
            "bestilling",
            "rekvisition",
            "type",
            "tekst",
            "beløb_ekskl_moms",
        ]
    )
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
                line.kind,
                _csv_safe(line.description_da),
                f"{line.amount:.2f}".replace(".", ","),
            ]
        )
    return response


def _csv_safe(text: str) -> str:
    """Spreadsheets execute cells that start with = + - @; customer text must never become a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
