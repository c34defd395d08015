"""A signature is what it looks like: typed names and titles carry no invisible characters, and the order page
and the accepted copy show the logged-in account that accepted next to what was typed."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from ordering import services
from ordering.models import Addendum

from ..conftest import accept_rendered, acceptance
from .snapshots import snapshot

HIDDEN = [
    ("Direk\u202erøt\u202c", "U+202E, U+202C"),  # right-to-left override: shows as "Direktør"
    ("Tove \u2066Tegner\u2069", "U+2066, U+2069"),  # isolate
    ("Tove\u200bTegner", "U+200B"),  # zero-width space
    ("Tove\u200dTegner", "U+200D"),  # zero-width joiner
    ("\ufeffTove Tegner", "U+FEFF"),  # byte-order mark
    ("Tove\u00adTegner", "U+00AD"),  # soft hyphen
    ("Tove\x07Tegner", "U+0007"),  # a control character
    ("Tove\u2028Tegner", "U+2028"),  # a line separator in a one-line field
]
MESSAGE = "Teksten indeholder usynlige tegn ({codes}), som kan få den til at betyde noget andet"


@pytest.mark.parametrize("field", ["signer_name", "signer_title"])
@pytest.mark.parametrize(("typed", "codes"), HIDDEN)
def test_a_typed_name_or_title_with_invisible_characters_is_refused(cast, order_in, client, field, typed, codes):
    order = order_in("awaiting_signature")
    kwargs = acceptance(order)
    before = snapshot(order)

    with pytest.raises(services.Invalid) as refused:
        services.order_accept(order=order, actor=cast.signatory_a, **{**kwargs, field: typed})
    assert MESSAGE.format(codes=codes) in refused.value.message
    assert snapshot(order) == before

    client.force_login(cast.signatory_a)
    response = client.post(
        reverse("ordering:order_transition", args=[order.pk, "accept"]),
        {"expected_state": "awaiting_signature", "confirm": "on", **kwargs, field: typed},
    )
    assert response.status_code == 400
    assert MESSAGE.format(codes=codes) in response.content.decode()
    assert snapshot(order) == before


def test_a_danish_name_is_accepted_and_the_page_shows_it_with_the_account_that_accepted(cast, order_in, client):
    order = order_in("awaiting_signature")
    kwargs = acceptance(order)
    client.force_login(cast.signatory_a)
    client.post(
        reverse("ordering:order_transition", args=[order.pk, "accept"]),
        {
            "expected_state": "awaiting_signature",
            "confirm": "on",
            **kwargs,
            "signer_name": "Søren Ærø-Åberg",
            "signer_title": "Økonomichef",
        },
    )
    addendum = Addendum.objects.get(order=order)
    assert (addendum.status, addendum.signer_name, addendum.signer_title) == (
        "accepted",
        "Søren Ærø-Åberg",
        "Økonomichef",
    )

    client.force_login(cast.orderer_a)
    page = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    assert "Søren Ærø-Åberg (Økonomichef), logget ind som Signatory (signatory_a)" in page


@pytest.mark.weasyprint
def test_the_accepted_copy_shows_the_typed_name_and_title_and_the_account_that_accepted(
    cast, order_in, django_capture_on_commit_callbacks
):
    order = order_in("awaiting_signature")
    with django_capture_on_commit_callbacks(execute=True):
        accept_rendered(order=order, actor=cast.signatory_a, signer_name="Tove Tegner", signer_title="HR-chef")
    addendum = Addendum.objects.get(order=order)
    with addendum.final_pdf.open("rb") as stored:
        reader = PdfReader(io.BytesIO(stored.read()))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())

    assert "Navn (som indtastet) Tove Tegner" in text
    assert "Titel (som indtastet) HR-chef" in text
    assert "Accepteret af brugeren Signatory (brugernavn signatory_a, e-mail signatory_a@example.test)" in text
