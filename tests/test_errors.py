"""One error model for every app (core/errors.py), and one place where views show it (core/http.py)."""

import logging
from decimal import Decimal as D

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.test import RequestFactory

from billing import pricing
from billing import services as billing
from billing.models import InterfacePrice
from billing.quotes import quote_for_order
from core.errors import ChangedMeanwhile, Invalid, NotAllowedNow, NotPermitted, Refusal
from core.http import show_refusal
from ordering import services


def test_ordering_and_billing_refuse_with_the_shared_kinds():
    assert (services.NotPermitted, services.NotAllowedNow, services.ChangedMeanwhile, services.Invalid) == (
        NotPermitted,
        NotAllowedNow,
        ChangedMeanwhile,
        Invalid,
    )
    assert billing.BillingError is Refusal
    assert all(issubclass(kind, Refusal) for kind in (NotPermitted, NotAllowedNow, ChangedMeanwhile, Invalid))


def test_billing_refuses_someone_without_the_role_as_not_permitted(cast, order_in):
    order = order_in("active")
    with pytest.raises(NotPermitted) as refused:
        billing.consulting_record(
            order=order, actor=cast.orderer_a, on=order.activated_on, hours=D("1"), description="Sparring"
        )
    assert "salgs- og kundeansvarlige" in refused.value.message


def test_billing_refuses_bad_input_as_invalid_and_a_wrong_moment_as_not_allowed_now(cast, order_in):
    order = order_in("active")
    with pytest.raises(Invalid):
        billing.consulting_record(order=order, actor=cast.am_a, on=order.activated_on, hours=D("0.1"), description="x")
    draft = order_in("draft", system=cast.canteen, codes=("engangsydelser",))
    with pytest.raises(NotAllowedNow):
        billing.quote_adjustment_add(order=draft, actor=cast.am_a, kind="one_time", amount=D("-1"), reason="Rabat")


def test_the_pricing_core_raises_its_own_missing_price():
    order = pricing.OrderFacts(
        purchase_model="single", system_id=1, system_name="VagtPlan", interfaces=(pricing.InterfaceFacts("x", "X"),)
    )
    prices = pricing.PriceFacts(
        name="Prisliste",
        interfaces={},
        packages={},
        setup_fee=D("0"),
        startup_package=D("0"),
        consulting_hourly=D("0"),
        vat_rate=D("0.25"),
    )
    with pytest.raises(pricing.MissingPrice) as missing:
        pricing.quote(order, pricing.ContractFacts(), prices)
    assert (missing.value.kind, missing.value.code, missing.value.price_list) == ("interface", "x", "Prisliste")


def test_a_price_missing_from_the_list_is_refused_with_a_sentence(cast, order_in):
    order = order_in("draft", codes=("moedetidsplaner",))
    InterfacePrice.objects.filter(interface=cast.interfaces["moedetidsplaner"]).delete()
    with pytest.raises(NotAllowedNow) as refused:
        quote_for_order(order)
    assert "moedetidsplaner" in refused.value.message and "katalogadministrator" in refused.value.message


class CommentForm(forms.Form):
    comment = forms.CharField(required=False)


def request_from(user):
    request = RequestFactory().post("/orders/1/actions/reject/")
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def test_a_refusal_shows_on_the_fields_it_names_and_the_rest_above_the_form(cast):
    request = request_from(cast.orderer_a)
    form = CommentForm({"comment": "x"})
    form.is_valid()
    show_refusal(request, Invalid("Ret felterne.", errors={"comment": "For kort.", "other": "Noget andet."}), form=form)
    assert form.errors["comment"] == ["For kort."]
    assert form.non_field_errors() == ["Noget andet."]
    assert list(get_messages(request)) == []


def test_a_refusal_without_a_form_is_a_message_and_one_for_want_of_the_role_is_logged(cast, caplog):
    request = request_from(cast.orderer_a)
    with caplog.at_level(logging.WARNING, logger="security"):
        show_refusal(request, NotAllowedNow("Ikke nu."), action="reject", order=1)
        show_refusal(request, NotPermitted("Ikke dig."), action="reject", order=1)
    assert [str(m) for m in get_messages(request)] == ["Ikke nu.", "Ikke dig."]
    logged = [r.security for r in caplog.records if r.name == "security"]
    assert [(e["event"], e["action"], e["order"], e["reason"]) for e in logged] == [
        ("action_refused", "reject", 1, "Ikke dig.")
    ]
