"""The order form (issue #22, item 4): one access control where it applies, a preview that runs the rules saving
runs, packages of the chosen system only, the standard interfaces ticked for a standard system, and no claim of
standard integration before anything is chosen.

Checked in English where a sentence from the code is asserted (the user may choose it), in Danish where the
issue quotes the Danish page.
"""

import html
import re

from django.urls import reverse

from ordering.models import AccessOrder, ExternalSystem, IntegrationPackage, State

from ..conftest import make_order
from .test_pages import bulk_orders


def get(client, user, url, language="en", **params) -> str:
    client.force_login(user)
    client.cookies["django_language"] = language
    response = client.get(url, params)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def preview(client, cast, language="en", **answers) -> str:
    params = {
        "customer": cast.customer_a.pk,
        "external_system": cast.rostering.pk,
        "purchase_model": "single",
        "environment": "production",
        "reason": "new",
        **answers,
    }
    return get(client, cast.orderer_a, reverse("ordering:order_form_preview"), language, **params)


def post(client, cast, language="en", **answers):
    client.force_login(cast.orderer_a)
    client.cookies["django_language"] = language
    data = {
        "customer": cast.customer_a.pk,
        "external_system": cast.rostering.pk,
        "purchase_model": "single",
        "environment": "production",
        "reason": "new",
        **answers,
    }
    return client.post(reverse("ordering:order_create"), data)


def checked(body: str, interface) -> bool:
    """Whether the interface's box is ticked in the page."""
    start = body.index(f'name="interfaces" value="{interface.pk}"')
    return body[start : body.index(">", start)].endswith("checked")


# --- One replacement or change control, where it applies ------------------------------------------


def test_a_new_order_shows_the_replacement_choice_only_when_the_customer_has_a_live_access(cast, client):
    body = get(client, cast.orderer_a, reverse("ordering:order_create"))
    assert 'name="replaces_order"' not in body and 'name="changes_order"' not in body
    assert 'id="when-replaces_order"' in body  # where htmx puts it once it applies

    active = make_order(cast, "active")
    body = get(client, cast.orderer_a, reverse("ordering:order_create"))
    assert 'name="replaces_order"' in body and 'name="changes_order"' not in body
    assert f"{active.reference} – VagtPlan" in body


def test_a_change_shows_only_the_access_it_changes_never_a_second_similar_choice(cast, client):
    make_order(cast, "active")
    body = preview(client, cast, reason="change")
    assert body.count("<select") == 1
    assert 'name="changes_order"' in body and 'name="replaces_order"' not in body
    assert 'id="when-replaces_order" hx-swap-oob="true"></div>' in body

    back_to_new = preview(client, cast, reason="new")
    assert 'name="replaces_order"' in back_to_new and 'name="changes_order"' not in back_to_new


def test_the_access_choices_use_the_full_width_so_long_names_are_not_cut(cast, client):
    make_order(cast, "active")
    body = get(client, cast.orderer_a, reverse("ordering:order_create"))
    # .order-system widens its select to the form's width (static/css/app.css), as for the system itself.
    wrapper = re.search(
        r'<div class="order-system">\s*<div id="when-changes_order">\s*</div>\s*<div id="when-replaces_order">', body
    )
    assert wrapper is not None


# --- The preview runs the rules saving runs ---------------------------------------------------------


def test_the_preview_refuses_the_startup_package_for_production_as_saving_does_and_quotes_no_price(cast, client):
    # Engangsydelser is outside VagtPlan's standard set: individual integration, where the package is sold.
    individual = {"interfaces": [cast.interfaces["engangsydelser"].pk], "startup_package": "on"}
    body = preview(client, cast, **individual)
    assert 'id="order-preview-problems"' in body
    assert "order it for the test environment" in body
    assert "What it will cost" not in body  # no price that saving would refuse

    response = post(client, cast, **individual)
    assert response.status_code == 400
    saved_error = html.unescape(response.content.decode())
    assert "order it for the test environment" in saved_error
    assert not AccessOrder.objects.exists()


def test_after_a_refused_save_the_quote_never_silently_drops_the_ticked_startup_package(cast, client):
    response = post(client, cast, interfaces=[cast.interfaces["engangsydelser"].pk], startup_package="on")
    body = html.unescape(response.content.decode())
    assert 'name="startup_package" checked' in body
    # The box stays ticked, so the page quotes nothing rather than a price without the package.
    assert "What it will cost" not in body
    assert 'id="order-preview-problems"' in body


def test_the_preview_quotes_the_startup_package_where_saving_accepts_it(cast, client):
    body = preview(
        client,
        cast,
        language="da",
        environment="test",
        interfaces=[cast.interfaces["engangsydelser"].pk],
        startup_package="on",
    )
    assert 'id="order-preview-problems"' not in body
    assert "25.000,00" in body  # the startup package's price, as Danes write it

    response = post(
        client, cast, environment="test", interfaces=[cast.interfaces["engangsydelser"].pk], startup_package="on"
    )
    assert response.status_code == 302
    assert AccessOrder.objects.get().startup_package is True


def test_the_preview_does_not_complain_about_what_is_still_to_be_answered(cast, client):
    body = preview(client, cast, environment="", interfaces=[cast.interfaces["opret-fravaer"].pk])
    assert 'id="order-preview-problems"' not in body


# --- Packages belong to a system ----------------------------------------------------------------------


def test_the_package_list_offers_only_the_chosen_systems_packages(cast, client):
    canteen_package = IntegrationPackage.objects.create(
        code="kantinepakke", name_da="Kantinepakke", external_system=cast.canteen
    )
    body = preview(client, cast, purchase_model="package")
    choices = body[body.index('name="package"') : body.index("</select>", body.index('name="package"'))]
    assert "Vagtplanpakke" in choices and "Kantinepakke" not in choices

    body = preview(client, cast, external_system=cast.canteen.pk, purchase_model="package")
    choices = body[body.index('name="package"') : body.index("</select>", body.index('name="package"'))]
    assert "Kantinepakke" in choices and "Vagtplanpakke" not in choices

    # Sent anyway, another system's package is refused with the list's own error, and nothing is saved.
    response = post(client, cast, purchase_model="package", package=canteen_package.pk)
    assert response.status_code == 400
    assert "Choose one of the integration packages made for the chosen system." in html.unescape(
        response.content.decode()
    )
    assert not AccessOrder.objects.exists()


def test_no_package_is_offered_before_a_system_is_chosen(cast, client):
    body = get(client, cast.orderer_a, reverse("ordering:order_create"))
    choices = body[body.index('name="package"') : body.index("</select>", body.index('name="package"'))]
    assert "Vagtplanpakke" not in choices


# --- Standard interfaces ticked for a standard system; no "standard" claim with nothing chosen -------------


def test_choosing_a_standard_system_ticks_its_standard_interfaces(cast, client):
    body = get(client, cast.orderer_a, reverse("ordering:order_create"), external_system=cast.rostering.pk)
    web = cast.interfaces
    assert checked(body, web["opret-fravaer"]) and checked(body, web["medarbejderoplysninger"])
    assert checked(body, web["moedetidsplaner"]) and not checked(body, web["engangsydelser"])

    live = preview(client, cast)  # the orderer has just chosen VagtPlan; nothing ticked yet
    assert checked(live, web["opret-fravaer"]) and not checked(live, web["engangsydelser"])
    assert f'name="interfaces_for" value="{cast.rostering.pk}"' in live


def test_switching_system_replaces_the_previous_systems_standard_set_but_never_the_orderers_own_choice(cast, client):
    web = cast.interfaces
    rostering_set = [web["opret-fravaer"].pk, web["medarbejderoplysninger"].pk, web["moedetidsplaner"].pk]
    switched = preview(
        client, cast, external_system=cast.canteen.pk, interfaces=rostering_set, interfaces_for=cast.rostering.pk
    )
    assert checked(switched, web["engangsydelser"]) and not checked(switched, web["opret-fravaer"])

    own_choice = [web["opret-fravaer"].pk]
    kept = preview(
        client, cast, external_system=cast.canteen.pk, interfaces=own_choice, interfaces_for=cast.rostering.pk
    )
    assert checked(kept, web["opret-fravaer"]) and not checked(kept, web["engangsydelser"])

    # Unticking everything for the same system is the orderer's choice too: nothing is ticked again.
    cleared = preview(client, cast, interfaces_for=cast.rostering.pk)
    assert not any(checked(cleared, web[code]) for code in web)


def test_saving_never_ticks_interfaces_the_orderer_did_not_send(cast, client):
    response = post(client, cast)
    assert response.status_code == 400
    assert not AccessOrder.objects.exists()
    assert "Choose at least one interface the system should have access to." in html.unescape(response.content.decode())


def test_nothing_ticked_makes_no_claim_of_standard_integration(cast, client):
    body = preview(client, cast, language="da", interfaces_for=cast.rostering.pk)
    assert "Standardintegration med dine nuværende valg" not in body
    assert "Standardintegration: leverandøren" not in body
    english = preview(client, cast, interfaces_for=cast.rostering.pk)
    assert "choose interfaces or an integration package to see whether" in english

    chosen = preview(client, cast, language="da", interfaces=[cast.interfaces["opret-fravaer"].pk])
    assert "Standardintegration med dine nuværende valg" in chosen


def test_an_own_system_is_individual_integration_before_anything_is_chosen(cast, client):
    body = preview(client, cast, external_system=cast.own_system.pk)
    assert 'id="individual-advice"' in body


# --- Query counts -----------------------------------------------------------------------------------


def test_the_form_and_its_preview_cost_the_same_queries_however_many_accesses_and_packages(cast, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_order(cast, "active")
    client.force_login(cast.orderer_a)
    params = {"customer": cast.customer_a.pk, "external_system": cast.rostering.pk, "purchase_model": "single"}
    params |= {"environment": "production", "reason": "new", "interfaces": [cast.interfaces["opret-fravaer"].pk]}

    def count(url, query):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, query).status_code == 200
        return len(captured.captured_queries)

    form_few = count(reverse("ordering:order_create"), {"external_system": cast.rostering.pk})
    preview_few = count(reverse("ordering:order_form_preview"), params)
    for n in range(5):
        IntegrationPackage.objects.create(code=f"p{n}", name_da=f"Pakke {n}", external_system=cast.rostering)
    bulk_orders(cast, 30, State.ACTIVE)
    assert AccessOrder.objects.filter(state=State.ACTIVE).count() == 31
    assert count(reverse("ordering:order_create"), {"external_system": cast.rostering.pk}) == form_few
    assert count(reverse("ordering:order_form_preview"), params) == preview_few


WEB_SERVICES = ["Engangsydelser", "Medarbejderoplysninger", "Mødetidsplaner", "Opret Fravær"]


def documented(body: str) -> list[str]:
    """The interfaces the form links the documentation of (ordering/_interface_docs.html)."""
    return re.findall(r'target="_blank">([^<]+)<span class="sr-only"> \(opens in a new window\)', body)


def count_page_queries(client, url, query=None) -> tuple[int, str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, query or {})
    assert response.status_code == 200
    return len(captured.captured_queries), html.unescape(response.content.decode())


def test_the_new_order_form_reads_each_thing_once(cast, client):
    # A system chosen, so the form shows its quote and the comparison: they read the price list, the contract and
    # the customer's facts once for both, the system's packages once with the preview. The interfaces are read once
    # for their boxes and their documentation links, the accesses a new system may replace once for "does any
    # apply?" and their list, the customer with its account manager in the one statement that finds it: 33 queries
    # before. Exact, so that a read added again fails here.
    make_order(cast, "active")
    client.force_login(cast.orderer_a)
    client.cookies["django_language"] = "en"
    url = reverse("ordering:order_create")
    count_page_queries(client, url)  # the session's first request writes it
    queries, body = count_page_queries(client, url, {"external_system": cast.rostering.pk})
    assert queries == 21
    assert body.count('name="interfaces"') == 4 and documented(body) == WEB_SERVICES
    assert 'name="replaces_order"' in body


def test_the_draft_edit_form_reads_each_thing_once(cast, client):
    # As the new order form (above), and the account manager read with the order, the system's standard interfaces
    # once for the boxes and the integration type: 31 queries before. Exact, so that a read added again fails here.
    draft = make_order(cast, "draft")
    make_order(cast, "active", environment="test")
    client.force_login(cast.orderer_a)
    client.cookies["django_language"] = "en"
    url = reverse("ordering:order_edit", args=[draft.pk])
    count_page_queries(client, url)  # the session's first request writes it
    queries, body = count_page_queries(client, url)
    assert queries == 20
    assert "What it will cost" in body and body.count('class="comparison-option"') == 2
    assert documented(body) == WEB_SERVICES


# --- Tenant isolation and refused edits -----------------------------------------------------------------


def test_another_customers_accesses_and_own_systems_packages_are_never_offered(cast, client):
    theirs = make_order(cast, "active", customer=cast.customer_b)
    their_system = ExternalSystem.objects.create(
        name="Odenses eget", vendor=cast.rostering.vendor, category="other", owner=cast.customer_b
    )
    IntegrationPackage.objects.create(code="odense", name_da="Odensepakke", external_system=their_system)

    for reason in ("new", "change"):
        body = preview(client, cast, reason=reason)
        assert theirs.reference not in body

    body = preview(client, cast, external_system=their_system.pk, purchase_model="package")
    assert "Odensepakke" not in body and "Odenses eget" not in body
    response = post(client, cast, external_system=their_system.pk, purchase_model="package")
    assert response.status_code == 400
    assert not AccessOrder.objects.filter(customer=cast.customer_a).exists()


def test_a_refused_edit_of_a_draft_leaves_the_draft_as_it_was(cast, client):
    draft = make_order(cast, "draft")
    before = (draft.environment, draft.startup_package, list(draft.interfaces.values_list("pk", flat=True)))
    client.force_login(cast.orderer_a)
    client.cookies["django_language"] = "en"
    response = client.post(
        reverse("ordering:order_edit", args=[draft.pk]),
        {
            "order": draft.pk,
            "customer": cast.customer_a.pk,
            "external_system": cast.rostering.pk,
            "purchase_model": "single",
            "environment": "production",
            "reason": "new",
            "interfaces": [cast.interfaces["engangsydelser"].pk],
            "startup_package": "on",
        },
    )
    assert response.status_code == 400
    assert "order it for the test environment" in html.unescape(response.content.decode())
    draft.refresh_from_db()
    assert (draft.environment, draft.startup_package, list(draft.interfaces.values_list("pk", flat=True))) == before
