"""The money forms on the order page: numbers as people write them, bounds from the models."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from billing.forms import ConsultingForm, StartupUsageForm
from billing.models import StartupPackage


@pytest.mark.parametrize("language", ["da", "en"])
@pytest.mark.parametrize("typed", ["2.5", "2,5"])
def test_two_and_a_half_hours_are_two_and_a_half_with_a_point_or_a_comma(typed, language):
    with translation.override(language):
        consulting = ConsultingForm({"on": "2026-03-02", "hours": typed, "description": "Sparring"})
        startup = StartupUsageForm({"meetings": "1", "qa_hours": typed})
        assert consulting.is_valid(), consulting.errors
        assert startup.is_valid(), startup.errors
    assert consulting.cleaned_data["hours"] == Decimal("2.5")
    assert startup.cleaned_data["qa_hours"] == Decimal("2.5")
    assert consulting.cleaned_data["on"] == datetime.date(2026, 3, 2)


def money_section(client, user, order) -> str:
    client.force_login(user)
    body = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    start = body.index('<section id="money"')
    return body[start : body.index("</section>", start)]


def test_the_startup_package_is_counted_against_what_the_model_says_it_includes(
    cast, individual_order, client, monkeypatch
):
    order = individual_order("active", startup_package=True)
    section = money_section(client, cast.am_a, order)
    assert "Brugte møder: 0 af 3" in section and "Brugte timer til spørgsmål: 0,00 af 4" in section

    monkeypatch.setattr(StartupPackage, "MEETINGS_INCLUDED", 5)
    monkeypatch.setattr(StartupPackage, "QA_HOURS_INCLUDED", Decimal("7.5"))
    section = money_section(client, cast.am_a, order)
    assert "Brugte møder: 0 af 5" in section and "Brugte timer til spørgsmål: 0,00 af 7,5" in section


def test_the_account_managers_forms_render_through_the_shared_field_template(cast, individual_order, client):
    order = individual_order("active", startup_package=True)
    section = money_section(client, cast.am_a, order)
    # Label bound to its input, hint tied to it, the longest number it takes, the numeric keyboard for decimals,
    # the date picker.
    assert '<label class="form-label" for="co-hours">Timer</label>' in section
    assert 'id="co-hours-hint">I kvarte timer, fra 0,25 til 1000.</span>' in section
    assert (
        'id="co-hours" name="hours" value="" maxlength="10" inputmode="decimal" aria-describedby="co-hours-hint" '
        "required" in section
    )
    assert 'type="date" id="co-on" name="on"' in section
    assert 'id="su-qa_hours" name="qa_hours" value="0" maxlength="7" inputmode="decimal"' in section
    assert 'id="su-meetings" name="meetings" value="0"' in section


def test_the_adjustment_form_renders_its_choices_and_hints(cast, order_in, client):
    order = order_in("submitted", codes=("moedetidsplaner",))
    section = money_section(client, cast.am_a, order)
    assert '<select class="form-select" id="adj-kind" name="kind"' in section
    assert '<option value="one_time">Engangsbeløb</option><option value="monthly">Månedlig</option>' in section
    assert 'id="adj-amount-hint">Ekskl. moms; negativt for en rabat.</span>' in section
    assert 'id="adj-reason-hint">Kunden kan se den i tilbuddet.</span>' in section
