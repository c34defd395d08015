"""The controller's register as a page, a CSV and a PDF (registers/controller.py); 404 for another customer."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.roles import can_see_controller_registers
from core.http import allowed_if

from .controller import controller_register, customer_for_register, register_csv, register_customers, register_pdf


@login_required
@require_GET
@allowed_if(can_see_controller_registers)
def register_index(request: HttpRequest) -> HttpResponse:
    """The customers whose register the user may read: one for most customer users, many for KMD."""
    customers = register_customers(request.user).order_by("name", "pk")
    return render(request, "registers/controller_index.html", {"customers": customers})


@login_required
@require_GET
def register_page(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_for_register(request.user, pk)
    return render(request, "registers/controller_register.html", {"register": controller_register(customer)})


@login_required
@require_GET
def register_download_csv(request: HttpRequest, pk: int) -> HttpResponse:
    return register_csv(controller_register(customer_for_register(request.user, pk)))


@login_required
@require_GET
def register_download_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    # Rendered in the request: a customer has tens of accesses, a few hundred milliseconds (README).
    return register_pdf(controller_register(customer_for_register(request.user, pk)))
