"""Asking KMD for help, and the account manager's answer (ordering/consulting.py)."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roles import can_ask_for_help
from core.form_tokens import Outcome
from core.http import allowed_if, submit_or_refuse
from core.widgets import HiddenInput

from . import consulting, lifecycle
from .models import ConsultingRequest, Customer
from .roles import Role
from .selectors import customers_of_member, order_for_user
from .validators import validate_multiline_text

# The list shows this many requests, newest first; older ones are in the audit trail and the invoices.
REQUESTS_SHOWN = 100


class AskForm(forms.Form):
    customer = forms.ModelChoiceField(
        label=gettext_lazy("For"),
        queryset=Customer.objects.none(),
        required=True,
        error_messages={"required": gettext_lazy("Choose the customer you ask for help for.")},
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("What help do you want from KMD?"),
        choices=ConsultingRequest.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose the kind of help you want from KMD.")},
    )
    message = forms.CharField(
        label=gettext_lazy("What do you need help with?"),
        max_length=ConsultingRequest.MESSAGE_MAX_LENGTH,
        validators=[validate_multiline_text],
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": gettext_lazy("Write what you need help with, so KMD can prepare.")},
        help_text=gettext_lazy(
            "E.g. the system and what it should do, who the vendor is, when you want to start, and what you and "
            "the vendor already know about KMD Opus Personale."
        ),
    )

    def __init__(self, *args, customers, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Customer.objects.filter(pk__in=[c.pk for c in customers])
        if len(customers) == 1:
            self.fields["customer"].initial = customers[0].pk
            self.fields["customer"].widget = HiddenInput()


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=gettext_lazy("Your answer to the customer"),
        max_length=ConsultingRequest.MESSAGE_MAX_LENGTH,
        validators=[validate_multiline_text],
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": gettext_lazy("Write your answer to the customer.")},
        help_text=gettext_lazy("What KMD will do and when: a meeting, the startup package, an offer for the project."),
    )


@login_required
@allowed_if(can_ask_for_help)
def request_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    asking_customers = [c for c in customers_of_member(user) if consulting.may_ask(user, c)]
    requests = list(consulting.requests_visible_to(user)[:REQUESTS_SHOWN])
    return render(request, "ordering/consulting_list.html", {"requests": requests, "can_ask": bool(asking_customers)})


@login_required
def request_create(request: HttpRequest) -> HttpResponse:
    """ "Bed KMD om hjælp": about an order (?order=) or about the customer's plans before any order."""
    user = request.user
    order = None
    order_pk = request.GET.get("order") or request.POST.get("order")
    if order_pk and str(order_pk).isdigit():
        order = order_for_user(user, int(order_pk))
        customers = [order.customer]
    else:
        customers = [c for c in customers_of_member(user) if consulting.may_ask(user, c)]
    if not customers or (order is not None and not consulting.may_ask(user, order.customer)):
        raise PermissionDenied
    refusal = consulting.asking_refusal(user, order) if order is not None else ""
    form = AskForm(request.POST or None, customers=customers)
    if request.method == "POST" and not refusal and form.is_valid():

        def ask() -> Outcome:
            created = consulting.consulting_request_create(
                actor=user,
                customer=form.cleaned_data["customer"],
                order=order,
                kind=form.cleaned_data["kind"],
                message=form.cleaned_data["message"],
            )
            return Outcome(
                reverse("ordering:consulting_detail", args=[created.pk]),
                _("Your request was sent to %(manager)s, your account manager at KMD.")
                % {"manager": created.customer.account_manager.get_full_name() or created.customer.account_manager},
            )

        response = submit_or_refuse(request, ask, form=form, action="consulting_request")
        if response is not None:
            return response
    context = {"form": form, "order": order, "refusal": refusal, "customers": customers}
    return render(request, "ordering/consulting_form.html", context, status=400 if form.errors else 200)


@login_required
@allowed_if(can_ask_for_help)
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    found = consulting.request_for_user(user, pk)
    is_manager = found.customer.account_manager_id == user.pk
    answer_form = AnswerForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not is_manager:
            raise PermissionDenied
        if answer_form.is_valid():

            def answer() -> Outcome:
                consulting.consulting_request_answer(
                    actor=user, request=found, answer=answer_form.cleaned_data["answer"]
                )
                return Outcome(
                    reverse("ordering:consulting_detail", args=[found.pk]),
                    _("Your answer was saved; the customer sees it on this page."),
                )

            response = submit_or_refuse(request, answer, form=answer_form, action="consulting_answer")
            if response is not None:
                return response
    return request_page(request, found, answer_form=answer_form)


def request_page(
    request: HttpRequest, found: ConsultingRequest, *, answer_form: AnswerForm | None = None, money_forms=None
) -> HttpResponse:
    """The request's page; again with a failed form's errors by its fields (billing's consulting form too)."""
    is_manager = found.customer.account_manager_id == request.user.pk
    money = lifecycle.billing().consulting_request_section(found, {Role.ACCOUNT_MANAGER} if is_manager else set())
    money.update(money_forms or {})
    answer_form = answer_form or AnswerForm()
    failed = bool(answer_form.errors or money_forms)
    context = {"consulting_request": found, "is_manager": is_manager, "answer_form": answer_form, "money": money}
    return render(request, "ordering/consulting_detail.html", context, status=400 if failed else 200)
