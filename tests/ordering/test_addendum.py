"""The contract addendum: a real PDF/A document, rendered in the background, accepted bound to its hash."""

import hashlib
import io

import pytest
from cryptography.hazmat.primitives import hashes
from django.core.management import call_command
from django.urls import reverse
from pypdf import PdfReader

from ordering import services
from ordering.models import AccessOrder, Addendum
from tests.pages import order_page_text, post_action

from ..conftest import accept_rendered, acceptance, issue_addendum, make_order

weasyprint = pytest.mark.weasyprint


def issued(cast, **kwargs) -> Addendum:
    order = make_order(cast, "awaiting_signature", vendor_agreement_confirmed=True, **kwargs)
    return services.addendum_render(order.addenda.get(status="issued").pk)


def pdf_text(addendum: Addendum, field: str = "pdf") -> str:
    with getattr(addendum, field).open("rb") as stored:
        reader = PdfReader(io.BytesIO(stored.read()))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    return " ".join(text.split())


@weasyprint
def test_a_single_purchase_addendum_states_parties_system_interfaces_and_prices(cast):
    cast.interfaces["moedetidsplaner"].description_da = "Oprette, læse, slette og ændre mødetidsplaner."
    cast.interfaces["moedetidsplaner"].data_categories = "Arbejdstid\nAnsættelsesoplysninger"
    cast.interfaces["moedetidsplaner"].save()
    addendum = issued(cast, codes=("opret-fravaer", "moedetidsplaner"), requisition_number="REK-77")
    text = flat(pdf_text(addendum))
    for fact in [
        "Tillæg til kontrakt om KMD Opus Personale",
        f"Tillæg nr. {addendum.number}",
        "version 1",
        "Aarhus Kommune",
        "CVR 55133018",
        "EAN 5798000137004",
        "KMD A/S",
        "HA-1",
        "VagtPlan",
        "Vagtdata A/S, CVR 31415926",
        "Standardintegration",
        "Produktion",
        "Enkeltkøb af snitflader",
        "Mødetidsplaner",
        "Oprette, læse, slette og ændre mødetidsplaner.",
        "Ansættelsesoplysninger",
        "Opstartsvederlag for licens til Mødetidsplaner",
        "10.000,00 kr.",
        "Intet opstartsvederlag for licens til Opret Fravær: snitfladen er omfattet af Kundens kontrakt",
        "Tillægget er Kundens instruks som dataansvarlig til KMD som databehandler",
        "REK-77",
    ]:
        assert fact in text, fact


@weasyprint
def test_a_package_addendum_names_the_package_and_its_monthly_fee(cast):
    text = flat(pdf_text(issued(cast, purchase_model="package", package=cast.package, codes=())))
    assert "Integrationspakke: Vagtplanpakke" in text
    assert "Løbende vederlag for drift og vedligehold af integrationspakken Vagtplanpakke." in text
    assert "6.200,00 kr." in text


@weasyprint
def test_a_phase_out_addendum_has_the_phase_out_note_and_no_setup_fee(cast):
    addendum = issued(
        cast, system=cast.canteen, codes=("engangsydelser",), reason="phase_out", replaces_file_interface=cast.ind01
    )
    text = flat(pdf_text(addendum))
    assert "Udfasning af filbaseret snitflade" in text and "IND01" in text
    assert "Intet opsætningsvederlag" in text


@weasyprint
def test_an_individual_integration_addendum_shows_the_certificate_and_startup_package(
    cast, trusted_test_environment, pki
):
    from certificates.services import certificate_upload
    from certificates.testing import make_leaf, pem

    leaf = make_leaf(pki, cvr="31415926", organisation="Vagtdata A/S")
    order = make_order(cast, "draft", system=cast.own_system, environment="test", startup_package=True)
    certificate_upload(order=order, actor=cast.orderer_a, data=pem(leaf, pki.issuing), filename="k.pem")
    order = services.order_submit(order=order, actor=cast.orderer_a, vendor_agreement_confirmed=True)
    order = issue_addendum(order=order, actor=cast.am_a)
    addendum = services.addendum_render(order.addenda.get().pk)
    text = flat(pdf_text(addendum))
    fingerprint = leaf.fingerprint(hashes.SHA256()).hex()
    assert "Individuel integration" in text and "Certifikat" in text
    assert "NTRDK-31415926" in text and "31415926" in text
    assert fingerprint in text.replace(" ", "")
    assert "Opstartspakke" in text and "6 måneders adgang" in text
    assert "Test" in text


@weasyprint
def test_the_pdf_declares_pdf_a_3a_and_embeds_only_the_projects_fonts(cast):
    addendum = issued(cast)
    with addendum.pdf.open("rb") as stored:
        reader = PdfReader(io.BytesIO(stored.read()))
    xmp = reader.xmp_metadata
    assert xmp is not None
    raw = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "pdfaid:part" in raw and "3" in raw and 'pdfaid:conformance="A"' in raw
    meta = reader.metadata
    assert meta.title.startswith(f"Tillæg {addendum.number}")
    assert meta.author == "KMD A/S" and "VagtPlan" in meta.subject
    assert reader.trailer["/Root"]["/Lang"] == "da"
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = (
                font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
                if "/DescendantFonts" in font
                else font["/FontDescriptor"]
            )
            descriptor = descriptor.get_object()
            fonts[str(font["/BaseFont"])] = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    assert fonts and all(fonts.values()), fonts
    assert all("IBM-Plex-Sans" in name for name in fonts), fonts


@weasyprint
def test_customer_and_certificate_text_appears_literally_never_as_markup(cast):
    cast.customer_a.name = "Kommune <script>alert(1)</script>"
    cast.customer_a.save()
    cast.rostering.name = "Vagt</td><td>plan"
    cast.rostering.save()
    text = flat(pdf_text(issued(cast, requisition_number="<b>R-1</b>")))
    assert "Kommune <script>alert(1)</script>" in text
    assert "Vagt</td><td>plan" in text
    assert "<b>R-1</b>" in text


@weasyprint
def test_the_url_fetcher_only_serves_the_projects_static_files():
    from ordering.documents import StaticFilesOnly

    fetcher = StaticFilesOnly()
    assert fetcher.fetch("opus-static:///dkfds/fonts/IBMPlexSans/complete/ttf/IBMPlexSans-Regular.ttf").code == 200
    for url in [
        "file:///etc/passwd",
        "http://127.0.0.1:8000/",
        "opus-static:///../config/settings.py",
        "opus-static:///nope.ttf",
    ]:
        with pytest.raises((ValueError, FileNotFoundError)):
            fetcher.fetch(url)


# --- Background rendering and its failure ------------------------------------------------------


def test_issuing_renders_the_document_after_commit(cast, order_in, django_capture_on_commit_callbacks):
    order = order_in("submitted")
    with django_capture_on_commit_callbacks(execute=True):
        order = services.order_issue_addendum(order=order, actor=cast.am_a)
    addendum = order.addenda.get()
    assert addendum.render_status == "ready"
    with addendum.pdf.open("rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == addendum.pdf_sha256


def test_a_failed_render_leaves_the_order_as_it_was_with_a_retryable_error(cast, order_in, monkeypatch, client):
    from ordering import documents

    def broken(html):
        raise RuntimeError("fonts missing")

    monkeypatch.setattr(documents, "html_to_pdf", broken)
    order = order_in("awaiting_signature")
    addendum = services.addendum_render(order.addenda.get().pk)
    assert addendum.render_status == "failed" and not addendum.pdf
    assert AccessOrder.objects.get(pk=order.pk).state == "awaiting_signature"

    client.force_login(cast.am_a)
    page = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    assert "Dokumentet kunne ikke dannes" in page and "Dan igen" in page
    client.force_login(cast.signatory_a)
    page = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    assert "/actions/accept/" not in page and "Dan igen" not in page

    monkeypatch.setattr(documents, "html_to_pdf", lambda html: b"%PDF-1.7\n%ok\n%%EOF\n")
    client.force_login(cast.am_a)
    client.post(reverse("ordering:addendum_render", args=[order.pk, addendum.version]))
    addendum.refresh_from_db()
    assert addendum.render_status in ("pending", "ready")
    addendum = services.addendum_render(addendum.pk)
    assert addendum.render_status == "ready"


def test_the_status_fragment_polls_while_generating_and_stops_when_ready(cast, order_in, client):
    order = order_in("awaiting_signature")
    client.force_login(cast.orderer_a)
    url = reverse("ordering:addendum_status", args=[order.pk, 1])
    assert 'hx-trigger="every 2s"' in client.get(url, HTTP_HX_REQUEST="true").content.decode()
    services.addendum_render(order.addenda.get().pk)
    response = client.get(url, HTTP_HX_REQUEST="true")
    assert "hx-trigger" not in response.content.decode() and response["HX-Refresh"] == "true"


# --- Acceptance --------------------------------------------------------------------------------


def test_acceptance_records_who_what_when_where_and_the_hash(cast, order_in, django_capture_on_commit_callbacks):
    order = order_in("awaiting_signature")
    kwargs = acceptance(order)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_accept(order=order, actor=cast.signatory_a, ip="192.0.2.10", **kwargs)
    addendum = Addendum.objects.get(order=order)
    assert (addendum.status, addendum.decided_by, addendum.decided_from_ip) == (
        "accepted",
        cast.signatory_a,
        "192.0.2.10",
    )
    assert (addendum.signer_name, addendum.signer_title) == ("Tove Tegner", "HR-chef")
    assert addendum.accepted_sha256 == addendum.pdf_sha256 == kwargs["document_sha256"]
    assert addendum.final_sha256 and addendum.final_sha256 != addendum.pdf_sha256  # the stamped copy
    with pytest.raises(PermissionError):
        addendum.signer_name = "Someone else"
        addendum.save()


def test_accepting_a_document_other_than_the_one_read_is_refused(cast, order_in):
    order = order_in("awaiting_signature")
    kwargs = {**acceptance(order), "document_sha256": "0" * 64}
    with pytest.raises(services.ChangedMeanwhile):
        services.order_accept(order=order, actor=cast.signatory_a, **kwargs)
    assert AccessOrder.objects.get(pk=order.pk).state == "awaiting_signature"


@pytest.mark.parametrize("change", [{"authorised": False}, {"signer_name": " "}, {"signer_title": ""}])
def test_acceptance_needs_the_authority_tick_and_a_typed_name_and_title(cast, order_in, change):
    order = order_in("awaiting_signature")
    with pytest.raises(services.Invalid):
        services.order_accept(order=order, actor=cast.signatory_a, **{**acceptance(order), **change})


def test_a_document_altered_in_storage_cannot_be_accepted_and_is_reported(cast, order_in, capsys):
    order = order_in("awaiting_signature")
    kwargs = acceptance(order)
    addendum = order.addenda.get()
    with open(addendum.pdf.path, "ab") as stored:
        stored.write(b"% tampered")
    with pytest.raises(services.Invalid):
        services.order_accept(order=order, actor=cast.signatory_a, **kwargs)
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_addenda")
    assert exit_info.value.code == 1
    assert f"{addendum.number}: the PDF does not match" in capsys.readouterr().err


def test_verify_addenda_passes_when_every_document_matches(cast, order_in, capsys, django_capture_on_commit_callbacks):
    order = order_in("awaiting_signature")
    with django_capture_on_commit_callbacks(execute=True):
        accept_rendered(order=order, actor=cast.signatory_a)
    call_command("verify_addenda")
    assert "All 1 addendum documents match" in capsys.readouterr().out


def test_altering_an_accepted_copy_is_reported(cast, order_in, capsys, django_capture_on_commit_callbacks):
    order = order_in("awaiting_signature")
    with django_capture_on_commit_callbacks(execute=True):
        accept_rendered(order=order, actor=cast.signatory_a)
    addendum = order.addenda.get()
    with open(addendum.final_pdf.path, "wb") as stored:
        stored.write(b"%PDF-1.7 forged")
    with pytest.raises(SystemExit):
        call_command("verify_addenda")
    assert "accepted copy does not match" in capsys.readouterr().err


def test_the_signatory_accepts_from_the_page(cast, order_in, client):
    order = order_in("awaiting_signature")
    addendum = services.addendum_render(order.addenda.get().pk)
    page = order_page_text(client, cast.signatory_a, order)
    assert f'value="{addendum.pdf_sha256}"' in page
    post_action(
        client,
        cast.signatory_a,
        order,
        "accept",
        {
            "expected_state": "awaiting_signature",
            "document_sha256": addendum.pdf_sha256,
            "signer_name": "Signe Tegner",
            "signer_title": "Direktør",
            "confirm": "on",
        },
        REMOTE_ADDR="198.51.100.4",
    )
    addendum.refresh_from_db()
    assert (addendum.status, addendum.signer_name, addendum.decided_from_ip) == (
        "accepted",
        "Signe Tegner",
        "198.51.100.4",
    )


# --- Downloads ---------------------------------------------------------------------------------


@pytest.mark.parametrize("person", ["orderer_a", "signatory_a", "am_a", "support"])
def test_the_customers_people_the_account_manager_and_support_download_it(cast, order_in, client, person):
    order = order_in("awaiting_signature")
    addendum = services.addendum_render(order.addenda.get().pk)
    client.force_login(getattr(cast, person))
    response = client.get(reverse("ordering:addendum_document", args=[order.pk, 1, "document"]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="tillaeg-{addendum.number}.pdf"'
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")


@pytest.mark.parametrize("person", ["orderer_b", "signatory_b", "am_b", "outsider"])
def test_nobody_else_can_download_it(cast, order_in, client, person):
    order = order_in("awaiting_signature")
    services.addendum_render(order.addenda.get().pk)
    client.force_login(getattr(cast, person))
    for copy in ("document", "accepted"):
        assert client.get(reverse("ordering:addendum_document", args=[order.pk, 1, copy])).status_code == 404
    assert client.get(reverse("ordering:addendum_status", args=[order.pk, 1])).status_code == 404
    assert client.post(reverse("ordering:addendum_render", args=[order.pk, 1])).status_code == 404


def test_the_files_live_in_private_storage_under_unguessable_names(cast, order_in, settings):
    order = order_in("awaiting_signature")
    addendum = services.addendum_render(order.addenda.get().pk)
    assert addendum.pdf.name.startswith(f"addenda/{order.pk}/") and len(addendum.pdf.name.split("/")[-1]) == 36
    assert not addendum.pdf.path.startswith(str(settings.STATIC_ROOT))
