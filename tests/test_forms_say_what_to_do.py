"""Forms (issue #22, item 5): a specific message for every required field and tick box, an error summary that
lists every error and links to its field, all errors at once, and length limits and keyboards from the model."""

import html
import importlib
import re

import pytest
from django import forms
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from accounts.models import ApiToken
from ordering.models import AccessOrder, Addendum, ExternalSystem, Vendor
from ordering.transitions import TRANSITIONS

from .conftest import acceptance, make_order

# Every module that holds a form a user fills in (Django admin's own forms aside).
FORM_MODULES = [
    "accounts.forms",
    "billing.forms",
    "certificates.forms",
    "ordering.clarifications",
    "ordering.consulting_views",
    "ordering.forms",
    "ordering.people_views",
    "ordering.transitions",
]
DJANGOS_OWN = str(forms.Field.default_error_messages["required"])


def user_forms() -> list[type[forms.Form]]:
    for name in FORM_MODULES:
        importlib.import_module(name)

    def below(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from below(sub)

    return sorted({cls for cls in below(forms.Form) if cls.__module__ in FORM_MODULES}, key=lambda c: c.__qualname__)


def test_every_required_field_of_every_user_form_says_what_to_do_when_it_is_left_out():
    forms_found = user_forms()
    assert len(forms_found) > 20  # the search found the forms, not nothing
    generic = [
        f"{cls.__module__}.{cls.__name__}.{name}"
        for cls in forms_found
        for name, field in cls.base_fields.items()
        if field.required and not field.widget.is_hidden and str(field.error_messages["required"]) == DJANGOS_OWN
    ]
    assert generic == []


def test_every_box_an_action_asks_to_tick_says_what_ticking_it_means(cast, order_in):
    confirmed = [spec for spec in TRANSITIONS.values() if spec.confirmation is not None]
    assert {spec.name for spec in confirmed} >= {"accept", "emergency_close"}
    order = order_in("active")
    for spec in confirmed:
        form = spec.form({"expected_state": "x"}, spec=spec, order=order, user=cast.am_a)
        assert str(form.fields["confirm"].error_messages["required"]) == str(spec.confirmation_missing)
        with translation.override("en"):
            assert str(spec.confirmation_missing).startswith("Tick the box to confirm that you")


def test_an_unticked_acceptance_says_in_danish_what_ticking_means(cast, order_in, client):
    order = order_in("awaiting_signature")
    signed = {k: v for k, v in acceptance(order).items() if k != "authorised"}  # the box left unticked
    client.force_login(cast.signatory_a)
    client.cookies["django_language"] = "da"
    page = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    token = page.split('name="form_token" value="')[1].split('"')[0]
    response = client.post(
        reverse("ordering:order_transition", args=[order.pk, "accept"]),
        {"expected_state": "awaiting_signature", "form_token": token, **signed},
    )
    body = html.unescape(response.content.decode())
    assert "Sæt flueben for at bekræfte, at du har læst tillægget" in body
    assert "Dette felt er påkrævet." not in body
    order.refresh_from_db()
    assert order.state == "awaiting_signature"


def test_a_support_closure_without_the_tick_says_what_it_means_and_closes_nothing(cast, order_in, client):
    order = order_in("active")
    client.force_login(cast.support)
    client.cookies["django_language"] = "da"
    page = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    token = page.split('name="form_token" value="')[1].split('"')[0]
    response = client.post(
        reverse("ordering:order_transition", args=[order.pk, "emergency_close"]),
        {"expected_state": "active", "form_token": token, "comment": "Sikkerhedsbrud"},
    )
    body = html.unescape(response.content.decode())
    assert "Sæt flueben for at bekræfte, at du forstår, at adgangen lukkes med det samme" in body
    order.refresh_from_db()
    assert order.state == "active"


# --- The error summary ------------------------------------------------------------------------------


def post_order(client, cast, **data):
    client.force_login(cast.orderer_a)
    client.cookies["django_language"] = "en"
    response = client.post(reverse("ordering:order_create"), {"customer": cast.customer_a.pk, **data})
    assert response.status_code == 400
    return html.unescape(response.content.decode())


def summary_links(body: str) -> list[tuple[str, str]]:
    start = body.index('class="alert alert-error"')
    block = body[start : body.index("</ul>", start)]
    return re.findall(r'<a class="function-link" href="#([^"]+)">([^<]+)</a>', block)


def test_an_empty_order_lists_every_missing_answer_at_once_each_linked_to_its_field(cast, client):
    body = post_order(client, cast)
    links = summary_links(body)
    assert links == [
        ("id_external_system", "Choose an external system from the list."),
        ("id_purchase_model_0", "Choose single purchase or integration package."),
        ("id_environment_0", "Choose the production or the test environment."),
        ("id_reason_0", "Choose why the access is ordered."),
    ]
    for target, _message in links:
        assert f'id="{target}"' in body  # each link lands on an input of the form
    assert not AccessOrder.objects.exists()


def test_a_missing_answer_and_a_broken_rule_are_reported_together(cast, client):
    """Before, the startup package's rule was checked only once every field had a valid answer."""
    body = post_order(
        client,
        cast,
        external_system=cast.rostering.pk,
        purchase_model="single",
        reason="new",
        interfaces=[cast.interfaces["engangsydelser"].pk],
        startup_package="on",
        requisition_number="R" * 41,
    )
    messages = [message for _target, message in summary_links(body)]
    assert "Choose the production or the test environment." in messages
    assert any("order it for the test environment" in m for m in messages)
    assert any(m.startswith("Ensure this value has at most 40 characters") or "40" in m for m in messages)
    assert ("id_requisition_number", next(m for m in messages if "40" in m)) in summary_links(body)
    assert not AccessOrder.objects.exists()


def test_the_summary_lists_the_forms_own_errors_too_unlinked():
    class Small(forms.Form):
        name = forms.CharField(error_messages={"required": "Enter a name."})

        def clean(self):
            raise forms.ValidationError("The whole form is wrong.")

    form = Small(data={})
    form.is_valid()
    rendered = render_to_string("_form_errors.html", {"form": form, "heading": "Errors"})
    assert "<li>The whole form is wrong.</li>" in rendered
    assert '<a class="function-link" href="#id_name">Enter a name.</a>' in rendered
    assert rendered.index("The whole form is wrong.") < rendered.index("Enter a name.")


# --- maxlength and inputmode from the model -----------------------------------------------------------


def text_inputs(body: str) -> dict[str, dict[str, str]]:
    """Every visible text input and text area of a page, by name, with its attributes."""
    found = {}
    for tag, attrs in re.findall(r"<(input|textarea)\b([^>]*)>", body):
        attributes = dict(re.findall(r'([\w-]+)="([^"]*)"', attrs))
        if tag == "input" and attributes.get("type", "text") != "text":
            continue
        if attributes.get("name") in {"q"}:  # the search boxes of lists are no form fields of a record
            continue
        found[f"{attributes.get('id')}"] = attributes
    return found


def model_limit(model, name: str) -> str:
    return str(model._meta.get_field(name).max_length)


@pytest.mark.parametrize(
    ("who", "page", "expected"),
    [
        (
            "orderer_a",
            "order_create",
            {
                "id_requisition_number": model_limit(AccessOrder, "requisition_number"),
                "id_note": model_limit(AccessOrder, "note"),
            },
        ),
        (
            "orderer_a",
            "system_create",
            {
                "id_name": model_limit(ExternalSystem, "name"),
                "id_vendor_name": model_limit(Vendor, "name"),
                "id_description": model_limit(ExternalSystem, "description"),
                # A CVR number may be typed with spaces ("3141 5926"), which are taken out before it is stored.
                "id_vendor_cvr": "12",
            },
        ),
        (
            "signatory_a",
            "awaiting_signature",
            {
                "accept-signer_name": model_limit(Addendum, "signer_name"),
                "accept-signer_title": model_limit(Addendum, "signer_title"),
            },
        ),
        ("am_a", "submitted", {}),
        ("am_a", "active", {}),
        ("orderer_a", "active", {}),
        ("orderer_a", "consulting_create", {}),
        ("orderer_a", "profile", {"id_name": model_limit(ApiToken, "name")}),
    ],
)
def test_every_text_input_has_the_length_limit_of_what_keeps_it(cast, client, who, page, expected):
    client.force_login(getattr(cast, who))
    if page == "profile":
        url = reverse("accounts:profile")
    elif page in ("order_create", "system_create", "consulting_create"):
        url = reverse(f"ordering:{page}")
    else:
        order = make_order(cast, page)
        if page == "awaiting_signature":
            acceptance(order)  # the addendum's document is rendered: the signatory may accept it
        url = reverse("ordering:order_detail", args=[order.pk])
    response = client.get(url)
    assert response.status_code == 200
    inputs = text_inputs(response.content.decode())
    assert inputs, "the page has text inputs to check"
    without = [name for name, attributes in inputs.items() if not attributes.get("maxlength")]
    assert without == []
    for input_id, limit in expected.items():
        assert inputs[input_id]["maxlength"] == limit, input_id


def test_a_requisition_number_one_over_the_limit_is_refused_and_one_at_it_is_kept(cast, client):
    limit = AccessOrder._meta.get_field("requisition_number").max_length
    answers = {
        "customer": cast.customer_a.pk,
        "external_system": cast.rostering.pk,
        "purchase_model": "single",
        "environment": "production",
        "reason": "new",
        "interfaces": [cast.interfaces["opret-fravaer"].pk],
    }
    client.force_login(cast.orderer_a)
    refused = client.post(reverse("ordering:order_create"), {**answers, "requisition_number": "R" * (limit + 1)})
    assert refused.status_code == 400 and not AccessOrder.objects.exists()
    kept = client.post(reverse("ordering:order_create"), {**answers, "requisition_number": "R" * limit})
    assert kept.status_code == 302
    assert AccessOrder.objects.get().requisition_number == "R" * limit


def test_number_fields_bring_up_the_number_keyboard(cast, client):
    client.force_login(cast.orderer_a)
    inputs = text_inputs(client.get(reverse("ordering:system_create")).content.decode())
    assert inputs["id_vendor_cvr"]["inputmode"] == "numeric"
    client.force_login(cast.am_a)
    order = make_order(cast, "submitted")
    inputs = text_inputs(client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode())
    assert inputs["adj-amount"]["inputmode"] == "decimal"
