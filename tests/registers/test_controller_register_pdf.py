"""The controller's register as a tagged PDF/A, rendered like the contract addendum (ordering/documents.py) and
read back with pypdf: marked, a structure tree with headings and tables, the reader's language, the facts."""

import io
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from ordering.models import Addendum
from tests.conftest import make_order
from tests.pdf import structure_kinds

pytestmark = pytest.mark.weasyprint


def flat(text: str) -> str:
    return " ".join(text.split())


def download(client, customer) -> PdfReader:
    response = client.get(reverse("registers:controller_register_pdf", args=[customer.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="fortegnelse-eksterne-systemer-')
    return PdfReader(io.BytesIO(response.content))


def test_the_pdf_is_tagged_pdf_a_in_danish_with_every_access(cast, client, individual_order):
    order = make_order(cast, "active")
    closed = make_order(cast, "closed", system=cast.canteen, codes=("engangsydelser",))
    individual = individual_order("active")
    client.force_login(cast.signatory_a)
    reader = download(client, cast.customer_a)
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"].value is True
    assert str(root["/Lang"]) == "da"
    assert {"/H1", "/H2", "/Table", "/TH", "/TD"} <= structure_kinds(root)
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert re.search(r"pdfaid:part(>|=\")3", xmp) and re.search(r"pdfaid:conformance(>|=\")A", xmp), xmp
    text = flat("\n".join(page.extract_text() for page in reader.pages))
    for reference in (order.reference, closed.reference, individual.reference):
        assert reference in text
    assert "Aarhus Kommune" in text and "VagtPlan" in text and "KantineKort" in text and "Vagtdata A/S" in text
    assert "Opret Fravær" in text and "CPR-nummer" in text
    assert timezone.localdate().strftime("%d.%m.%Y") in text
    # The hash may wrap inside its cell: compare without the line breaks.
    sha = Addendum.objects.get(order=order, status="accepted").accepted_sha256
    assert sha in "".join(text.split())
    assert "Eget værktøj" in text  # the individual access, with its certificate's holder
    leaf = individual.certificate_bundles.get(status="current").certificates.get(role="leaf")
    assert leaf.name_parts.holder.split()[0] in text


def test_the_pdf_is_in_english_for_an_english_reader(cast, client):
    make_order(cast, "active")
    client.force_login(cast.am_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    reader = download(client, cast.customer_a)
    root = reader.trailer["/Root"]
    assert str(root["/Lang"]) == "en"
    text = flat("\n".join(page.extract_text() for page in reader.pages))
    assert "Register of external systems" in text and "Active" in text
    assert timezone.localdate().strftime("%d/%m/%Y") in text


def test_an_empty_register_is_a_pdf_that_says_so(cast, client):
    client.force_login(cast.orderer_b)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    text = flat("\n".join(page.extract_text() for page in download(client, cast.customer_b).pages))
    assert "No external system has access now." in text and "No access was closed in the last 5 years." in text
