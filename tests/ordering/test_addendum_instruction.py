"""The addendum as a data-processing instruction a lawyer signs: each point read back from the real PDF.

What KMD processes, the vendor's role, the data-processing agreement that prevails, special categories and CPR
numbers flagged, the test environment's data, security measures, KMD's signature, times with their time zone,
no placeholder contact, one name for each party, and no purpose made up from the rest. The refusals that keep
an addendum from saying less are tested at their boundary, and leave everything as it was.
"""

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from ordering import documents, services
from ordering.models import Interface, validate_category_lines

from ..security.snapshots import snapshot
from .test_addendum_wording import accepted, document_text, issued, issued_individual, pdf_reader, pdf_text, set_aside

weasyprint = pytest.mark.weasyprint


def rendered(addendum, field: str = "pdf") -> str:
    """The text of the real PDF (rendered with WeasyPrint), as a reader copies it."""
    if field == "pdf":
        addendum = services.addendum_render(addendum.pk)
    return pdf_text(pdf_reader(addendum, field))


# --- What KMD processes, for whom, under which agreement -------------------------------------------------


@weasyprint
def test_the_instruction_says_exactly_what_kmd_processes_without_og_dermed(cast):
    text = rendered(issued(cast, codes=("opret-fravaer", "moedetidsplaner")))
    assert (
        "Tillægget er Kundens instruks som dataansvarlig til KMD som databehandler om følgende behandling i KMD Opus "
        "Personale i produktionsmiljøet: KMD stiller Kundens personoplysninger til rådighed for det eksterne system "
        "VagtPlan gennem de standardsnitflader, der er anført i punkt 4, og modtager de oplysninger, som systemet "
        "indberetter gennem de samme standardsnitflader."
    ) in text
    assert (
        "Behandlingen omfatter alene de kategorier af personoplysninger og af registrerede, der er anført i punkt 4 "
        "og 5, og sker alene til de formål, der er anført i punkt 3."
    ) in text
    assert "og dermed" not in text


@weasyprint
def test_the_vendor_is_never_kmds_sub_processor_and_its_transfers_are_the_customers_responsibility(cast):
    text = rendered(issued(cast))
    assert "Leverandøren er ikke underdatabehandler for KMD, og KMD giver ikke Leverandøren instrukser." in text
    assert (
        "Leverandøren behandler de oplysninger, som det eksterne system modtager, som Kundens egen databehandler "
        "eller som selvstændig dataansvarlig, efter Kundens aftale med Leverandøren."
    ) in text
    assert (
        "Leverandørens videre behandling af oplysningerne, herunder enhver videregivelse eller overførsel af dem, "
        "også til lande uden for EU/EØS, er Kundens ansvar."
    ) in text


@weasyprint
def test_the_data_processing_agreement_is_identified_and_prevails_over_the_addendum(cast):
    contract = cast.customer_a.contract
    contract.dpa_reference = "DBA-2019-014, version 2"
    contract.dpa_dated = datetime.date(2019, 3, 1)
    contract.save()
    text = rendered(issued(cast))
    assert (
        "Databehandleraftale Databehandleraftalen mellem Kunden og KMD om KMD Opus Personale, DBA-2019-014, "
        "version 2, af 1. marts 2019"
    ) in text
    assert "Hovedaftalen og databehandleraftalen går forud for dette tillæg." in text
    assert (
        "Databehandleraftalen og hovedaftalen går forud for tillægget, og tillægget ændrer ikke deres vilkår." in text
    )
    # The old sentence let the addendum override the agreement.
    assert "medmindre andet fremgår af tillægget" not in text


def test_an_unregistered_data_processing_agreement_says_so_rather_than_inventing_one(cast):
    text = document_text(issued(cast))
    assert (
        "Databehandleraftalen mellem Kunden og KMD om KMD Opus Personale (reference og dato ikke registreret)" in text
    )


# --- The data -----------------------------------------------------------------------------------------


@weasyprint
def test_special_categories_and_cpr_numbers_are_flagged_as_such(cast):
    fravaer = cast.interfaces["opret-fravaer"]
    fravaer.data_categories = "Fraværsoplysninger"
    fravaer.special_categories = "Helbredsoplysninger (sygefravær, arbejdsskade)"
    fravaer.save()
    moedetider = cast.interfaces["moedetidsplaner"]
    moedetider.data_categories, moedetider.cpr_numbers = "Arbejdstid", False
    moedetider.save()
    text = rendered(issued(cast, codes=("opret-fravaer", "moedetidsplaner")))
    assert "Fraværsoplysninger Særlig kategori (art. 9): Helbredsoplysninger (sygefravær, arbejdsskade)" in text
    assert "CPR-nummer (databeskyttelseslovens § 11)" in text
    assert (
        "Behandlingen omfatter særlige kategorier af personoplysninger efter databeskyttelsesforordningens artikel 9: "
        "Helbredsoplysninger (sygefravær, arbejdsskade) gennem Opret Fravær."
    ) in text
    assert "Behandlingen omfatter CPR-numre (databeskyttelseslovens § 11) gennem Opret Fravær." in text


def test_an_addendum_without_special_categories_or_cpr_numbers_says_so(cast):
    moedetider = cast.interfaces["moedetidsplaner"]
    moedetider.data_categories, moedetider.cpr_numbers = "Arbejdstid", False
    moedetider.save()
    text = document_text(issued(cast, codes=("moedetidsplaner",)))
    assert (
        "Behandlingen omfatter ikke særlige kategorier af personoplysninger efter databeskyttelsesforordningens" in text
    )
    assert "Behandlingen omfatter ikke CPR-numre." in text


@pytest.mark.parametrize(
    "line",
    [
        "Dokumenter i personalemappen (kan indeholde alle kategorier af personoplysninger)",
        "Documents (may contain all categories of personal data)",
        "CPR-nummer",
        "Identifikationsoplysninger og CPR-nummer",
    ],
)
def test_the_catalogue_names_actual_categories_and_flags_cpr_numbers_with_its_box(line):
    with pytest.raises(ValidationError):
        validate_category_lines(f"Arbejdstid\n{line}")
    validate_category_lines("Arbejdstid\nAnsættelseskontrakt og ansættelsesbrev")


def test_the_registers_still_list_the_flagged_categories():
    interface = Interface(
        data_categories="Fraværsoplysninger", special_categories="Helbredsoplysninger", cpr_numbers=True
    )
    with translation.override("en"):
        assert interface.data_category_list == ["Fraværsoplysninger", "Helbredsoplysninger", "CPR number"]
    assert interface.ordinary_category_list == ["Fraværsoplysninger"]


@weasyprint
def test_the_test_environment_says_whether_it_holds_real_personal_data(cast):
    addendum = issued(cast, environment="test")
    assert (
        "Personoplysninger i testmiljøet Kundens testmiljø i KMD Opus Personale indeholder rigtige personoplysninger "
        "(fx en kopi af produktionsmiljøet). Instruksen og sikkerhedsforanstaltningerne gælder for dem som for "
        "produktionsmiljøet."
    ) in rendered(addendum)
    set_aside(cast, addendum)
    contract = cast.customer_a.contract
    contract.test_environment_data = contract.TestEnvironmentData.FICTITIOUS
    contract.save()
    assert (
        "Kundens testmiljø i KMD Opus Personale indeholder alene fiktive testdata og ingen rigtige personoplysninger."
    ) in rendered(issued(cast, environment="test"))


def test_a_production_addendum_does_not_speak_of_the_test_environment(cast):
    assert "Personoplysninger i testmiljøet" not in document_text(issued(cast))


# --- Security, signatures, times, contacts ---------------------------------------------------------------


@weasyprint
def test_a_standard_integration_names_its_security_measures_too(cast):
    text = rendered(issued(cast))
    assert "6. Sikkerhedsforanstaltninger" in text
    assert (
        "Det eksterne system får kun adgang til de standardsnitflader, der er anført i punkt 4, og kun i "
        "produktionsmiljøet."
    ) in text
    assert (
        "Systemet identificeres med det OCES3-systemcertifikat, som KMD og Leverandøren har aftalt for "
        "standardintegrationen af VagtPlan, og KMD åbner kun adgangen for dette certifikat."
    ) in text
    assert "KMD lukker adgangen, når tillægget ophører, og straks ved akut lukning" in text


@weasyprint
def test_kmd_is_named_and_signs_through_its_account_manager_with_name_and_time(cast):
    cast.am_a.last_name, cast.am_a.title = "Andersen", "Salgs- og kundeansvarlig"
    cast.am_a.save()
    addendum = issued(cast)
    text = rendered(addendum)
    assert (
        "For KMD A/S Udstedt og underskrevet elektronisk i Opus Adgang på vegne af KMD A/S af Am Andersen, "
        f"Salgs- og kundeansvarlig, {documents.danish_moment(addendum.issued_at)}"
    ) in text
    assert "KMD (databehandler) KMD A/S CVR 26911745 herefter „KMD“" in text


@weasyprint
def test_the_acceptance_time_is_printed_with_its_time_zone(cast, django_capture_on_commit_callbacks):
    addendum = accepted(cast, django_capture_on_commit_callbacks)
    text = rendered(addendum, "final_pdf")
    moment = documents.danish_moment(addendum.decided_at)
    assert re.search(r"\(dansk tid, UTC\+0[12]:00\)$", moment)
    assert f"Tidspunkt {moment}" in text
    assert f"Tillægget trådte i kraft ved Kundens accept den {moment}." in text


def test_a_moment_names_its_offset_from_utc_in_winter_and_in_summer():
    with translation.override("da"):
        winter = documents.danish_moment(datetime.datetime(2026, 12, 6, 13, 3, 27, tzinfo=datetime.UTC))
        summer = documents.danish_moment(datetime.datetime(2027, 7, 1, 12, 0, 0, tzinfo=datetime.UTC))
    assert winter == "6. december 2026 kl. 14.03.27 (dansk tid, UTC+01:00)"
    assert summer == "1. juli 2027 kl. 14.00.00 (dansk tid, UTC+02:00)"


PLACEHOLDERS = {"SUPPORT_PHONE": "+45 00 00 00 00", "SUPPORT_EMAIL": "support@opus-adgang.invalid"}


@weasyprint
def test_the_demo_leaves_a_placeholder_support_contact_out_of_the_document(cast, settings):
    settings.DEBUG = True  # the demo issues addenda with the placeholders; production refuses (below)
    for name, value in PLACEHOLDERS.items():
        setattr(settings, name, value)
    text = rendered(issued(cast))
    assert "kontakter Kunden supporten på KMD Opus Personale." in text
    assert "00 00 00 00" not in text and ".invalid" not in text


def test_a_real_support_contact_is_printed(cast):
    text = document_text(issued(cast))
    assert "kontakter Kunden supporten på KMD Opus Personale (telefon +45 44 60 10 00, e-mail opus-support@kmd" in text


@pytest.mark.parametrize(
    ("phone", "email"),
    [
        ("+45 00 00 00 00", "support@opus-adgang.invalid"),
        ("", ""),
        ("+45 00 00 00 00", "opus-support@kmd.example"),
        ("+45 44 60 10 00", "support@opus-adgang.invalid"),
        ("+45 44 60 10 00", ""),
    ],
)
def test_production_refuses_to_issue_while_support_contacts_are_unset(cast, order_in, settings, phone, email):
    settings.DEBUG = False
    settings.SUPPORT_PHONE, settings.SUPPORT_EMAIL = phone, email
    order = order_in("submitted")
    before = snapshot(order)
    with pytest.raises(services.NotAllowedNow) as refused:
        services.order_issue_addendum(order=order, actor=cast.am_a)
    assert "SUPPORT_PHONE" in refused.value.message
    assert snapshot(order) == before
    settings.SUPPORT_PHONE, settings.SUPPORT_EMAIL = "+45 44 60 10 00", "opus-support@kmd.example"
    assert services.order_issue_addendum(order=order, actor=cast.am_a).state == "awaiting_signature"


def test_a_new_version_is_refused_too_while_support_contacts_are_unset(cast, order_in, settings):
    order = order_in("awaiting_signature")
    settings.SUPPORT_PHONE = PLACEHOLDERS["SUPPORT_PHONE"]
    before = snapshot(order)
    with pytest.raises(services.NotAllowedNow):
        services.order_revise(order=order, actor=cast.am_a, comment="Ny pris")
    assert snapshot(order) == before


# --- One name for each party ------------------------------------------------------------------------------


@weasyprint
def test_kmd_and_the_vendor_each_have_one_name_throughout(cast, trusted_test_environment, good_bundle):
    standard = rendered(issued(cast, codes=("opret-fravaer", "moedetidsplaner")))
    individual = rendered(issued_individual(cast, good_bundle, startup_package=True))
    for text in (standard, individual):
        assert "herefter „KMD“" in text and "herefter „Leverandøren“" in text
        # "databehandleren" was a second name for KMD, "Leverandøren (databehandler)" one for KMD as well, and
        # "leverandøren af det eksterne system" or "den eksterne leverandør" further names for the vendor.
        assert "databehandleren" not in text.lower()
        assert "Leverandøren (databehandler)" not in text
        assert not re.search(r"\bleverandør", text), re.search(r".{40}\bleverandør.{40}", text)
        assert "den eksterne leverandør" not in text.lower()
    assert "Opstartspakke: 6 måneders adgang for Leverandøren til webservices på eksternt testmiljø" in individual


# --- No purpose made up from the rest --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "gap"),
    [("processing_purpose", "purpose"), ("data_subjects", "subjects")],
)
def test_an_interface_without_a_stated_purpose_or_data_subjects_cannot_be_put_in_an_addendum(
    cast, order_in, field, gap
):
    order = order_in("submitted", codes=("opret-fravaer", "moedetidsplaner"))
    moedetider = cast.interfaces["moedetidsplaner"]
    stated = getattr(moedetider, field)
    setattr(moedetider, field, "  ")
    moedetider.save()
    assert gap in moedetider.addendum_gaps
    before = snapshot(order)
    with pytest.raises(services.NotAllowedNow) as refused:
        services.order_issue_addendum(order=order, actor=cast.am_a)
    assert "Mødetidsplaner" in refused.value.message and "Opret Fravær" not in refused.value.message
    assert snapshot(order) == before

    setattr(moedetider, field, stated)
    moedetider.save()
    assert services.order_issue_addendum(order=order, actor=cast.am_a).state == "awaiting_signature"


def test_an_interface_without_any_category_cannot_be_put_in_an_addendum(cast, order_in):
    order = order_in("submitted")
    fravaer = cast.interfaces["opret-fravaer"]
    fravaer.data_categories, fravaer.special_categories, fravaer.cpr_numbers = "", "", False
    fravaer.save()
    before = snapshot(order)
    with pytest.raises(services.NotAllowedNow):
        services.order_issue_addendum(order=order, actor=cast.am_a)
    assert snapshot(order) == before
    fravaer.cpr_numbers = True  # one flagged category is a category
    fravaer.save()
    assert services.order_issue_addendum(order=order, actor=cast.am_a).state == "awaiting_signature"


def test_a_new_version_is_refused_when_an_interface_lost_its_purpose(cast, order_in):
    order = order_in("awaiting_signature")
    fravaer = cast.interfaces["opret-fravaer"]
    fravaer.processing_purpose = ""
    fravaer.save()
    before = snapshot(order)
    with pytest.raises(services.NotAllowedNow):
        services.order_revise(order=order, actor=cast.am_a, comment="Ny pris")
    assert snapshot(order) == before


@weasyprint
def test_each_interface_states_its_own_purpose_and_nothing_circular(cast):
    text = rendered(issued(cast, codes=("opret-fravaer", "moedetidsplaner")))
    assert "KMD behandler personoplysningerne efter dette tillæg alene til følgende formål" in text
    assert "Opret Fravær: Udveksling af oplysninger gennem Opret Fravær til brug for Kundens lønadministration." in text
    assert "formålet er det, snitfladen giver adgang til" not in text
    assert "ikke beskrevet nærmere" not in text


def test_the_demo_catalogue_states_purpose_actual_categories_and_data_subjects_for_every_interface():
    from config.management.commands import seed_demo

    for code, _name_da, _name_en, _desc_da, _desc_en, categories in seed_demo.WEB_SERVICES:
        validate_category_lines(categories)
        special, _cpr = seed_demo.INTERFACE_FLAGS[code]
        validate_category_lines(special)
        purpose, subjects = seed_demo.INTERFACE_PROCESSING[code]
        assert purpose.strip() and subjects.strip(), code
        assert "alle kategorier" not in categories
