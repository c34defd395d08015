"""A phase-out order includes the web service the catalogue names as replacing the file interface."""

import pytest
from django.urls import reverse

from core.errors import Invalid
from ordering import services
from ordering.models import AccessOrder, Interface
from tests.pages import post_new_order

from ..conftest import facts


def phase_out(cast, **overrides) -> dict:
    return facts(
        cast, **{"system": cast.canteen, "reason": "phase_out", "replaces_file_interface": cast.ind01, **overrides}
    )


def test_a_phase_out_of_ind01_without_engangsydelser_is_refused_naming_it(cast):
    """ "Hvis I for eksempel har et eksternt system, der tidligere integrerede via snitfladen IND01 og nu skal
    integrere via "Webservice Engangsydelser" …" """
    with pytest.raises(Invalid) as refusal:
        services.order_create(
            actor=cast.orderer_a, customer=cast.customer_a, facts=phase_out(cast, codes=("moedetidsplaner",))
        )
    assert "Engangsydelser" in refusal.value.errors["interfaces"] and "IND01" in refusal.value.errors["interfaces"]
    assert not AccessOrder.objects.exists()


def test_a_phase_out_including_the_replacing_web_service_is_accepted(cast):
    """ "De eksisterende filbaserede standardsnitflader bliver [erstattet] af nye standardsnitflader, som er
    webservices." Other web services may come along."""
    order = services.order_create(
        actor=cast.orderer_a,
        customer=cast.customer_a,
        facts=phase_out(cast, codes=("engangsydelser", "medarbejderoplysninger")),
    )
    assert order.reason == "phase_out"


def test_a_package_for_a_phase_out_must_hold_the_replacing_web_service(cast):
    with pytest.raises(Invalid) as refusal:
        services.order_create(
            actor=cast.orderer_a,
            customer=cast.customer_a,
            facts=facts(
                cast,
                codes=(),
                purchase_model="package",
                package=cast.package,  # Opret Fravær and Mødetidsplaner, not Engangsydelser
                reason="phase_out",
                replaces_file_interface=cast.ind01,
            ),
        )
    assert "Engangsydelser" in refusal.value.errors["package"]


def test_the_catalogue_admins_mapping_decides_and_is_checked_again_at_submission(cast):
    """The mapping is catalogue data KMD maintains: a draft saved before it changed is refused at submission."""
    draft = services.order_create(
        actor=cast.orderer_a, customer=cast.customer_a, facts=phase_out(cast, codes=("engangsydelser",))
    )
    Interface.objects.filter(pk=cast.ind01.pk).update(replaced_by=cast.interfaces["moedetidsplaner"])
    with pytest.raises(Invalid) as refusal:
        services.order_submit(order=draft, actor=cast.orderer_a)
    assert "Mødetidsplaner" in refusal.value.message
    assert AccessOrder.objects.get(pk=draft.pk).state == "draft"


def test_a_file_interface_the_catalogue_names_no_replacement_for_is_left_to_the_account_manager(cast):
    ferie = Interface.objects.create(code="ferie", name_da="FERIE", kind="file")
    order = services.order_create(
        actor=cast.orderer_a,
        customer=cast.customer_a,
        facts=phase_out(cast, codes=("opret-fravaer",), replaces_file_interface=ferie),
    )
    assert order.replaces_file_interface == ferie


def test_the_order_form_shows_the_refusal_on_the_interfaces(cast, client):
    response = post_new_order(
        client,
        cast,
        system=cast.canteen,
        codes=("moedetidsplaner",),
        environment="production",
        reason="phase_out",
        replaces_file_interface=cast.ind01.pk,
    )
    assert response.status_code == 400
    assert "Engangsydelser" in " ".join(response.context["form"].errors["interfaces"])


def test_the_catalogue_admin_maintains_the_mapping_in_the_admin(cast, client):
    from ..conftest import make_user

    client.force_login(make_user("catalogue_admin", is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:ordering_interface_change", args=[cast.ind01.pk])).content.decode()
    assert 'name="replaced_by"' in page
