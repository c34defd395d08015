"""Each interface links to its documentation on KMD's site, from the catalogue, the order form and the order page."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from ordering.models import Interface
from ordering.validators import validate_documentation_path

AREA = "https://opusintegration.kmd.dk/area/opus-personal-api"


def test_an_interface_without_its_own_page_links_to_the_standard_interfaces_page(cast):
    """ "Standardsnitfladerne på KMD Opus Personale er dokumenteret på hjemmesiden opusintegration.kmd.dk." """
    assert cast.interfaces["opret-fravaer"].documentation_url == AREA


def test_the_catalogue_admin_sets_an_interfaces_own_page_and_the_base_url_is_a_setting(cast, settings):
    interface = cast.interfaces["opret-fravaer"]
    interface.documentation_path = "/area/opus-personal-api/opret-fravaer"
    assert interface.documentation_url == AREA + "/opret-fravaer"
    settings.OPUS_INTEGRATION_DOCS_URL = "https://docs.example.dk/"
    assert interface.documentation_url == "https://docs.example.dk/area/opus-personal-api/opret-fravaer"


@pytest.mark.parametrize("path", ["//evil.example/x", "javascript:alert(1)", "area/x", "/a b", "@evil.example"])
def test_a_documentation_path_cannot_lead_to_another_site(path):
    with pytest.raises(ValidationError):
        validate_documentation_path(path)


def test_the_catalogue_links_each_web_service_to_its_documentation(cast, client):
    """ "Som udgangspunkt har I som kunde og jeres andre leverandører adgang til dokumentationen for
    standardsnitfladerne via opusintegration.kmd.dk." """
    Interface.objects.filter(pk=cast.interfaces["engangsydelser"].pk).update(
        documentation_path="/area/opus-personal-api/engangsydelser"
    )
    client.force_login(cast.orderer_a)
    page = client.get(reverse("ordering:catalogue")).content.decode()
    assert page.count(f'href="{AREA}"') == 3  # the web services without a page of their own
    assert f'href="{AREA}/engangsydelser"' in page


def test_the_order_form_links_the_interfaces_documentation(cast, client):
    client.force_login(cast.orderer_a)
    page = client.get(reverse("ordering:order_create")).content.decode()
    assert page.count(f'href="{AREA}"') == 4


def test_the_order_page_links_each_ordered_interface_to_its_documentation(cast, client, order_in):
    order = order_in("submitted", codes=("opret-fravaer", "moedetidsplaner"))
    client.force_login(cast.am_a)
    page = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    assert page.count(f'href="{AREA}"') == 2
