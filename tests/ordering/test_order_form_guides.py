"""The order form shows only the fields that apply, marks the standard interfaces and warns as choices are made."""

from django.urls import reverse


def form_page(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("ordering:order_create"), params)
    assert response.status_code == 200
    return response.content.decode()


def preview(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("ordering:order_form_preview"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_a_new_form_hides_the_phase_out_and_change_fields_until_that_reason_is_chosen(cast, client):
    body = form_page(client, cast.orderer_a)
    assert 'name="replaces_file_interface"' not in body and 'name="changes_order"' not in body
    # The purchase model is not chosen yet: both its fields are offered, so the form works without JavaScript.
    assert 'name="interfaces"' in body and 'name="package"' in body
    assert 'id="when-replaces_file_interface"' in body  # where htmx puts it once it applies


def test_a_posted_form_shows_the_fields_its_answers_need_without_javascript(cast, client):
    client.force_login(cast.orderer_a)
    data = {
        "customer": cast.customer_a.pk,
        "external_system": cast.rostering.pk,
        "purchase_model": "package",
        "environment": "production",
        "reason": "phase_out",
    }
    body = client.post(reverse("ordering:order_create"), data).content.decode()
    assert 'name="package"' in body and 'name="replaces_file_interface"' in body
    assert 'name="interfaces"' not in body and 'name="changes_order"' not in body


def test_the_preview_swaps_in_the_fields_for_a_change(cast, client):
    body = preview(client, cast.orderer_a, external_system=cast.rostering.pk, purchase_model="single", reason="change")
    assert 'id="when-changes_order" hx-swap-oob="true"' in body and 'name="changes_order"' in body
    assert 'id="when-package" hx-swap-oob="true"></div>' in body


def test_the_standard_interfaces_of_the_chosen_system_are_marked(cast, client):
    body = form_page(client, cast.orderer_a, external_system=cast.rostering.pk)
    assert "Opret Fravær (standard for dette system)" in body
    assert "Engangsydelser (standard" not in body


def test_the_preview_warns_live_when_the_choice_makes_the_order_individual_integration(cast, client):
    params = {"external_system": cast.rostering.pk, "purchase_model": "single", "environment": "production"}
    standard = preview(client, cast.orderer_a, interfaces=[cast.interfaces["opret-fravaer"].pk], **params)
    assert (
        "individuel integration" not in standard.lower().split("alert-warning")[-1] or "alert-warning" not in standard
    )
    individual = preview(client, cast.orderer_a, interfaces=[cast.interfaces["engangsydelser"].pk], **params)
    assert "alert-warning" in individual and "OCES3" in individual


def test_the_preview_warns_live_about_an_overlap_with_an_open_access(cast, order_in, client):
    active = order_in("active")
    same_choice = {
        "external_system": cast.rostering.pk,
        "purchase_model": "single",
        "interfaces": [cast.interfaces["opret-fravaer"].pk],
    }
    body = preview(client, cast.orderer_a, environment="production", **same_choice)
    assert active.reference in body and "alert-warning" in body
    elsewhere = preview(client, cast.orderer_a, environment="test", **same_choice)
    # No overlap warning in the other environment; the quote still names the access that set the system up
    # (the setup fee is paid once per system, in both environments together).
    assert "Overlapper en eksisterende adgang" in body
    assert "Overlapper en eksisterende adgang" not in elsewhere
    assert f"allerede sat op ({active.reference})" in elsewhere


def test_the_form_has_a_cancel_button_and_puts_the_quote_after_the_choices(cast, client):
    body = form_page(client, cast.orderer_a, external_system=cast.rostering.pk)
    assert "Annullér" in body
    assert body.index('name="startup_package"') < body.index('id="order-preview"')
