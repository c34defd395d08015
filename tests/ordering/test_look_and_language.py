"""Look and language (issue 22, item 11): what each reader sees on the order page and in the lists, in Danish."""

import re
from io import StringIO
from pathlib import Path

from django.core.management import call_command
from django.urls import reverse

from ordering import services


def page_of(client, user, url: str) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_only_the_customer_is_asked_to_tell_the_vendor_support_reads_the_date(cast, order_in, client):
    order = order_in("active")
    url = reverse("ordering:order_detail", args=[order.pk])
    tell = f"Giv {order.external_system.vendor.name} besked om"
    assert tell in page_of(client, cast.orderer_a, url)
    for kmd in (cast.support, cast.am_a):
        body = page_of(client, kmd, url)
        assert tell not in body
        assert f"{order.external_system.name} har haft adgang til KMD Opus Personale siden" in body


def test_a_closed_orders_test_access_says_it_closed_not_that_it_ends(cast, individual_order, client):
    order = individual_order("active", startup_package=True)
    order = services.order_close(order=order, actor=cast.am_a)
    detail = page_of(client, cast.orderer_a, reverse("ordering:order_detail", args=[order.pk]))
    listed = page_of(client, cast.orderer_a, reverse("ordering:order_list"))
    assert "testadgangen er lukket sammen med bestillingen" in listed
    assert "testadgang ophører" not in listed
    assert "Lukket den" in detail and "ophører af sig selv" not in detail


def test_the_order_list_stacks_on_a_phone_with_each_cell_named(cast, order_in, client):
    order_in("submitted")
    body = page_of(client, cast.orderer_a, reverse("ordering:order_list"))
    assert 'class="table table--zebra table--stacked"' in body
    for label in ("Bestilling", "Eksternt system", "Status", "Oprettet"):
        assert f'data-label="{label}"' in body


def test_the_search_hint_says_bestillingsnummer_as_the_app_does(cast, order_in, client):
    body = page_of(client, cast.orderer_a, reverse("ordering:order_list"))
    assert "Bestillingsnummer, system" in body and "Ordrenummer" not in body


def test_the_admin_uses_the_apps_colours_and_font(cast, client, settings):
    from django.contrib.staticfiles import finders

    admin = cast.am_a
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    body = page_of(client, admin, reverse("admin:index"))
    assert "/static/css/admin.css" in body
    css = Path(finders.find("css/admin.css")).read_text(encoding="utf-8")
    assert "IBM Plex Sans" in css and "--primary: #0059b3" in css
    for font in ("Regular", "SemiBold", "Bold"):
        assert finders.find(f"dkfds/fonts/IBMPlexSans/complete/woff2/IBMPlexSans-{font}.woff2")


def test_the_demo_catalogue_says_each_thing_once_in_the_apps_words(client, db):
    from django.contrib.auth import get_user_model

    call_command("seed_demo", "--force", verbosity=0, stdout=StringIO())
    body = page_of(client, get_user_model().objects.get(username="bestiller"), reverse("ordering:catalogue"))
    # A file interface: its kind says it is being phased out, its description what replaces it; nothing twice.
    for row in re.findall(r"<tr>.*?</tr>", body, flags=re.S):
        assert row.count("udfasning") <= 1, row
    assert "Erstattes af Opret fravær." in body
    assert "Opret Fravær" not in body  # an interface's name is capitalised like the others ("Hent fraværskvoter")


def test_an_addendums_hash_sits_behind_technical_details_for_the_customer(
    cast, order_in, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the document is made after the commit
        order = order_in("awaiting_signature")
    addendum = order.addenda.get()
    assert addendum.pdf_sha256
    body = page_of(client, cast.orderer_a, reverse("ordering:order_detail", args=[order.pk]))
    details = re.search(r"<details[^>]*>\s*<summary[^>]*>Tekniske detaljer</summary>(.*?)</details>", body, re.S)
    assert details and addendum.pdf_sha256 in details.group(1)
    assert body.count(addendum.pdf_sha256) == 1  # nowhere else on the page, not in the history either
