"""The order form gives KMD's advice where the choice is made, in the source's own terms.

Checked in English (the user may choose it), so the sentences are the ones in the code whatever the Danish
catalogue holds; the Danish page is checked by the ids of its blocks.
"""

import html

from django.urls import reverse

from ..conftest import make_order


def page(client, user, url, language="en", **params) -> str:
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
    return page(client, cast.orderer_a, reverse("ordering:order_form_preview"), language, **params)


def test_individual_integration_says_what_the_project_means_and_what_kmd_recommends(cast, client):
    """ "Ved individuel integration anbefales som minimum en opstartspakke samt dialog med KMD om
    integrationsprojektet, inden dette igangsættes" – "opstartspakken er vores anbefalede minimum, som
    forudsætter at KMD alene har en reaktiv rolle" – "et ønske om, at KMD indgår som en fuldt aktiv del"."""
    body = preview(client, cast, interfaces=[cast.interfaces["engangsydelser"].pk])
    assert 'id="individual-advice"' in body
    assert "significant integration project" in body
    assert "your active involvement is essential" in body
    assert "At a minimum the startup package" in body and "a dialogue with KMD about the project before" in body
    assert "only a reactive role" in body
    assert "KMD can also take a fully active part in the project" in body
    assert "ask KMD for help now" in body and reverse("ordering:consulting_create") in body
    assert 'href="mailto:am_a@example.test"' in body


def test_standard_integration_gets_no_individual_advice_but_says_what_standard_means(cast, client):
    body = preview(client, cast, interfaces=[cast.interfaces["opret-fravaer"].pk])
    assert 'id="individual-advice"' not in body and "reactive role" not in body
    assert "usually a simple connection that needs no consulting or startup help from KMD" in body


def test_a_system_kmd_has_no_standard_integration_with_is_explained_as_such(cast, client):
    body = preview(client, cast, external_system=cast.own_system.pk, interfaces=[cast.interfaces["opret-fravaer"].pk])
    assert "KMD has not agreed a standard integration with this system" in body
    assert "outside the system's standard set" not in body


def test_the_claim_that_individual_integration_costs_more_is_gone(cast, client):
    """No price list has an individual-integration surcharge, so the form must not say there is one."""
    individual = {"interfaces": [cast.interfaces["engangsydelser"].pk]}
    assert "costs more" not in preview(client, cast, **individual)
    danish = preview(client, cast, language="da", **individual)
    assert 'id="individual-advice"' in danish and "koster mere" not in danish


def test_the_form_always_gives_the_vendor_dialogue_and_its_business_consequences(cast, client):
    """ "Det betyder dog ikke, at KMD har gennemgået, testet eller indestår for leverandørens integration og
    anvendelse. Derfor bør I som kunde altid føre en dialog med leverandøren …" """
    body = page(client, cast.orderer_a, reverse("ordering:order_create"))
    assert 'id="vendor-advice"' in body
    assert "KMD has not reviewed or tested the vendor's integration and does not vouch for it" in body
    assert "what the integration results in for your business" in body
    assert body.index('id="vendor-advice"') < body.index('name="vendor_agreement_confirmed"')


def test_choosing_phase_out_says_to_contact_the_account_manager_and_what_falls_to_the_customer(cast, client):
    """ "… bør I kontakte jeres faste salgs- og kundeansvarlige" – "der kan være betydelige opgaver for jer som
    kunde, såsom certifikathåndtering, især hvis der er tale om individuel integration." """
    body = preview(client, cast, reason="phase_out")
    advice = body[body.index('id="when-phase-out"') :]
    assert 'hx-swap-oob="true"' in advice.split(">", 1)[0]
    assert 'id="phase-out-advice"' in advice
    assert "Contact your account manager first" in advice and 'href="mailto:am_a@example.test"' in advice
    assert "certificate handling" in advice and "significant tasks for you" in advice
    assert "no setup fee" in advice


def test_other_reasons_get_no_phase_out_advice_and_the_swap_empties_it(cast, client):
    for reason in ("new", "change"):
        body = preview(client, cast, reason=reason)
        assert '<div id="when-phase-out" aria-live="polite" hx-swap-oob="true"></div>' in body
        assert 'id="phase-out-advice"' not in body


def test_a_posted_phase_out_form_shows_the_advice_without_javascript(cast, client):
    client.force_login(cast.orderer_a)
    data = {"customer": cast.customer_a.pk, "external_system": cast.canteen.pk, "reason": "phase_out"}
    body = client.post(reverse("ordering:order_create"), data).content.decode()
    assert 'id="phase-out-advice"' in body
    assert body.index('name="reason"') < body.index('id="phase-out-advice"')


def test_a_phase_out_order_tells_the_customer_until_access_is_established(cast, client):
    phase_out = {"system": cast.canteen, "codes": ("engangsydelser",), "reason": "phase_out"}
    draft = make_order(cast, "draft", replaces_file_interface=cast.ind01, **phase_out)
    url = reverse("ordering:order_detail", args=[draft.pk])
    assert 'id="phase-out-advice"' in page(client, cast.orderer_a, url, language="da")
    # KMD's account manager is the contact, not the reader.
    assert 'id="phase-out-advice"' not in page(client, cast.am_a, url)
    new = make_order(cast, "draft", system=cast.canteen, codes=("engangsydelser",))
    assert 'id="phase-out-advice"' not in page(client, cast.orderer_a, reverse("ordering:order_detail", args=[new.pk]))


def test_an_established_phase_out_order_no_longer_shows_the_advice(cast, client):
    phase_out = {"system": cast.canteen, "codes": ("engangsydelser",), "reason": "phase_out"}
    active = make_order(cast, "active", replaces_file_interface=cast.ind01, **phase_out)
    body = page(client, cast.orderer_a, reverse("ordering:order_detail", args=[active.pk]))
    assert 'id="phase-out-advice"' not in body
