"""The contract addendum reads as a lawyer would sign it: each 0 kr line says its own reason, the register is
formal ("Kunden"), the sections are numbered, and it states what a data-processing instruction states.

Most tests read the document's HTML (fast); those marked `weasyprint` read the real tagged PDF/A.
"""

import ast
import datetime
import html
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from billing import addendum_wording, pricing
from ordering import documents, lifecycle, services
from ordering.models import Addendum

from ..conftest import accept_rendered, issue_addendum, make_order
from ..pdf import structure_kinds

weasyprint = pytest.mark.weasyprint

SECTIONS = [
    "Parter, hovedaftale og databehandleraftale",
    "Det eksterne system og Leverandøren",
    "Formål",
    "Standardsnitflader og kategorier af personoplysninger",
    "Kategorier af registrerede",
    "Sikkerhedsforanstaltninger",
    "Priser",
    "Instruks til KMD som databehandler",
    "Leverandørens rolle",
    "Ikrafttræden og varighed",
    "Accept",
]
# The UI's informal address; a contract speaks about "Kunden".
INFORMAL = re.compile(r"\b(jeres|jer)\b|\bI\b(?! alt)")


def flat(text: str) -> str:
    return " ".join(text.split())


def issued(cast, **facts) -> Addendum:
    # The orderer confirms the agreement with the vendor on the draft (issue 11, part 7).
    order = make_order(cast, "awaiting_signature", vendor_agreement_confirmed=True, **facts)
    return order.addenda.get(status="issued")


def accepted(cast, django_capture_on_commit_callbacks):
    """An addendum signatory A has accepted, with what the acceptance renders after its commit (the stamped copy)."""
    addendum = issued(cast)
    with django_capture_on_commit_callbacks(execute=True):
        accept_rendered(order=addendum.order, actor=cast.signatory_a)
    addendum.refresh_from_db()
    return addendum


def set_aside(cast, addendum: Addendum) -> None:
    """Decline and withdraw, so the same system can be ordered again in the same test."""
    order = services.order_decline(order=addendum.order, actor=cast.signatory_a, comment="Ikke denne")
    services.order_withdraw(order=order, actor=cast.orderer_a)


def document_text(addendum: Addendum, *, stamp: bool = False) -> str:
    # A fresh copy: the document reads the contract and catalogue as they are now.
    addendum = Addendum.objects.get(pk=addendum.pk)
    body = documents.addendum_html(addendum, stamp=stamp).split("<body>", 1)[1]
    return flat(html.unescape(re.sub(r"<[^>]+>", " ", body)))


def pdf_reader(addendum: Addendum, field: str = "pdf") -> PdfReader:
    with getattr(addendum, field).open("rb") as stored:
        return PdfReader(io.BytesIO(stored.read()))


def pdf_text(reader: PdfReader) -> str:
    return flat("\n".join(page.extract_text() for page in reader.pages))


# --- Every price rule has its sentence ------------------------------------------------------------


def pricing_rules() -> dict[str, ast.expr]:
    """Every rule billing/pricing.py writes on a QuoteLine (`Rule.X`), with the expression of its Danish text."""
    tree = ast.parse(Path(pricing.__file__).read_text())
    rules = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "QuoteLine" and len(node.args) >= 4:
            rule = node.args[1]
            if isinstance(rule, ast.Attribute) and getattr(rule.value, "id", "") == "Rule":
                rules[pricing.Rule[rule.attr]] = node.args[3]
    return rules


def line_sentence(line, *, system: str, package: str, interface_names: dict[str, str]) -> str:
    """The addendum's sentence for a line, asked of billing as ordering/documents.py asks it."""
    return lifecycle.billing().addendum_line_sentence(
        line, system=system, package=package, interface_names=interface_names
    )


def test_every_price_rule_has_a_sentence_of_its_own_in_the_addendum():
    rules = pricing_rules()
    assert len(rules) >= 14
    wording = addendum_wording.ADDENDUM_SENTENCES
    assert set(rules) <= set(wording), set(rules) - set(wording)
    for rule, da in rules.items():
        sentence = wording[rule]
        text = ast.unparse(da) if sentence is None else sentence
        assert not INFORMAL.search(text), (rule, text)
        assert "omfattet af eksisterende kontrakt" not in text


PRICES = pricing.PriceFacts(
    name="Prisliste 2026",
    interfaces={
        code: pricing.InterfacePrice(Decimal("10000"), Decimal("3100"), Decimal("2500")) for code in ("fra", "med")
    },
    packages={"vagt": Decimal("6200")},
    setup_fee=Decimal("5000"),
    startup_package=Decimal("25000"),
    consulting_hourly=Decimal("1500"),
    vat_rate=Decimal("0.25"),
)
FRAVAER = pricing.InterfaceFacts("fra", "Opret Fravær")


NO_CONTRACT = pricing.ContractFacts()


def sentences(order: pricing.OrderFacts, contract: pricing.ContractFacts = NO_CONTRACT) -> dict:
    quote = pricing.quote(order, contract, PRICES)
    return {
        line.rule: line_sentence(
            line, system="VagtPlan", package="Vagtplanpakke", interface_names={"fra": "Opret Fravær"}
        )
        for line in quote.lines
        if line.amount == 0
    }


def single(**kwargs) -> pricing.OrderFacts:
    return pricing.OrderFacts(
        purchase_model="single", system_id=7, system_name="VagtPlan", interfaces=(FRAVAER,), **kwargs
    )


def test_an_interface_in_the_contract_for_all_systems_is_covered_by_the_contract():
    """ "Standardsnitflader kan tilkøbes, medmindre de allerede er inkluderet i jeres kontrakt med KMD Opus Personale.\""""
    contract = pricing.ContractFacts("HA-1", {"fra": pricing.ContractLine("all")})
    assert sentences(single(), contract)["covered_all_systems"] == (
        "Intet opstartsvederlag for licens til Opret Fravær: snitfladen er omfattet af Kundens kontrakt for alle "
        "eksterne systemer."
    )


def test_an_interface_in_the_contract_for_named_systems_is_covered_for_that_system():
    """ "Vilkårene varierer dog og kan være specifikt formuleret i forbindelse med et udbud.\""""
    contract = pricing.ContractFacts("HA-1", {"fra": pricing.ContractLine("named", frozenset({7}))})
    assert sentences(single(), contract)["covered_named_system"] == (
        "Intet opstartsvederlag for licens til Opret Fravær: snitfladen er omfattet af Kundens kontrakt for VagtPlan."
    )


def test_a_licence_bought_earlier_is_an_earlier_licence_not_the_contract():
    """ "Hvis I har købt disse på standardvilkår (...), har I adgang til at anvende disse til alle de eksterne
    systemer, I ønsker.\""""
    text = sentences(single(licensed=frozenset({"fra"})))["already_licensed"]
    assert text == (
        "Intet opstartsvederlag for licens til Opret Fravær: Kunden har allerede licens til snitfladen, og licensen "
        "gælder alle Kundens eksterne systemer."
    )


def test_a_package_has_no_licence_start_because_it_is_a_package():
    """ "Opstartsvederlag for licens: Hvis I køber en integrationspakke til et specifikt eksternt system, betales
    ikke opstartsvederlag for licens.\""""
    order = pricing.OrderFacts(
        purchase_model="package", system_id=7, system_name="VagtPlan", package_code="vagt", package_name="Vagtplanpakke"
    )
    text = sentences(order)["package_no_licence_start"]
    assert text == (
        "Intet opstartsvederlag for licens: ved køb af integrationspakken Vagtplanpakke betales der ikke "
        "opstartsvederlag for licens."
    )
    assert "kontrakt" not in text


def test_the_phase_out_waives_the_setup_fee_because_of_the_phase_out():
    """ "Som udgangspunkt opkræves der ikke gebyr for opsætning hos KMD i forbindelse med udfasningen af de gamle
    snitflader.\""""
    text = sentences(single(reason="phase_out"))["setup_waived_phase_out"]
    assert "udfasning" in text and "kontrakt" not in text
    assert text.startswith("Intet opsætningsvederlag: adgangen for VagtPlan erstatter en filbaseret snitflade")


def test_a_change_costs_only_what_is_new():
    """ "Dette vederlag dækker omkostningerne ved at erstatte et eksisterende system med et nyt eller tilføje et nyt
    system til opsætningen.\" A change to an existing access is neither."""
    found = sentences(single(reason="change", existing_access=frozenset({"fra"})))
    assert found["setup_waived_change"] == (
        "Intet opsætningsvederlag: VagtPlan har allerede adgang, og ændringen omfatter kun det nye."
    )
    assert found["already_in_access"] == "Ingen betaling for Opret Fravær: VagtPlan har allerede adgang til snitfladen."


def test_an_adjustment_names_the_account_manager_formally_and_keeps_the_reason():
    line = pricing.QuoteLine(
        "one_time",
        "adjustment",
        Decimal("-500.00"),
        "Justering aftalt med jeres salgs- og kundeansvarlige: Rabat 2026",
        "",
    )
    text = line_sentence(line, system="VagtPlan", package="", interface_names={})
    assert text == "Justering aftalt med Kundens salgs- og kundeansvarlige hos KMD: Rabat 2026"


def test_a_rule_without_a_sentence_of_its_own_keeps_the_quotes_own_text():
    line = pricing.QuoteLine("one_time", pricing.Rule.SETUP_ALREADY_DONE, Decimal("0.00"), "Intet vederlag.", "")
    assert line_sentence(line, system="", package="", interface_names={}) == "Intet vederlag."


# --- The document as a whole (HTML) ---------------------------------------------------------------


def test_the_addendum_speaks_of_kunden_and_never_addresses_the_customer_informally(cast):
    for facts in [
        {"codes": ("opret-fravaer", "moedetidsplaner")},
        {"purchase_model": "package", "package": cast.package, "codes": ()},
        {
            "system": cast.canteen,
            "codes": ("engangsydelser",),
            "reason": "phase_out",
            "replaces_file_interface": cast.ind01,
        },
    ]:
        addendum = issued(cast, **facts)
        text = document_text(addendum)
        set_aside(cast, addendum)
        assert "Kunden" in text and "Kundens" in text
        assert not INFORMAL.search(text), INFORMAL.search(text)
        assert "omfattet af eksisterende kontrakt" not in text


def test_the_environment_is_spelt_correctly(cast):
    """ "produktionsmiljøet" with the linking s; the test environment is "testmiljøet"."""
    text = document_text(issued(cast))
    assert "i produktionsmiljøet" in text and "produktionmiljøet" not in text
    assert "i testmiljøet" in document_text(issued(cast, environment="test"))


def test_the_sections_are_numbered_in_order_including_the_instruction_and_the_acceptance(cast):
    headings = re.findall(r"<h2>(\d+)\. ([^<]+)</h2>", documents.addendum_html(issued(cast)))
    assert headings == [(str(n), title) for n, title in enumerate(SECTIONS, start=1)]


def issued_individual(cast, bundle: bytes, **facts) -> Addendum:
    from certificates.services import certificate_upload

    order = make_order(cast, "draft", system=cast.own_system, environment="test", **facts)
    certificate_upload(order=order, actor=cast.orderer_a, data=bundle, filename="kaede.zip")
    order = services.order_submit(order=order, actor=cast.orderer_a, vendor_agreement_confirmed=True)
    order = issue_addendum(order=order, actor=cast.am_a)
    return order.addenda.get(status="issued")


def test_an_individual_integration_numbers_the_certificate_and_clarification_sections_too(
    cast, trusted_test_environment, good_bundle
):
    headings = re.findall(r"<h2>(\d+\. [^<]+)</h2>", documents.addendum_html(issued_individual(cast, good_bundle)))
    assert headings[5:9] == [
        "6. Certifikat",
        "7. Afklaring af adgangsrettigheder",
        "8. Sikkerhedsforanstaltninger",
        "9. Priser",
    ]
    assert headings[-1] == "13. Accept"


def test_the_main_contract_is_named_with_its_date_or_says_the_date_is_not_registered(cast):
    addendum = issued(cast)
    assert "Kontrakt HA-1 om KMD Opus Personale (dato ikke registreret)" in document_text(addendum)
    contract = cast.customer_a.contract
    contract.signed_on = datetime.date(2019, 3, 1)
    contract.save()
    assert "Kontrakt HA-1 om KMD Opus Personale af 1. marts 2019" in document_text(addendum)


def test_purpose_and_data_subjects_come_from_the_catalogue(cast):
    """ "Denne bestilling (...) er jeres instruks som dataansvarlig til KMD, som databehandler, om at give adgang til
    det eksterne system." An instruction states the purpose and the categories of data subjects."""
    fravaer = cast.interfaces["opret-fravaer"]
    fravaer.processing_purpose = "Indberetning af fravær, så lønnen beregnes korrekt."
    fravaer.data_subjects = "Kundens medarbejdere\nKundens tidligere medarbejdere"
    fravaer.data_categories = "Fraværsoplysninger"
    fravaer.special_categories = "Helbredsoplysninger"
    fravaer.save()
    text = document_text(issued(cast, codes=("opret-fravaer", "moedetidsplaner")))
    assert "Opret Fravær: Indberetning af fravær, så lønnen beregnes korrekt." in text
    assert "Mødetidsplaner: Udveksling af oplysninger gennem Mødetidsplaner" in text
    assert "Kundens medarbejdere Kundens tidligere medarbejdere" in text
    assert "Fraværsoplysninger Særlig kategori (art. 9): Helbredsoplysninger" in text
    # No interface's purpose is made up from what it gives access to (issuing refuses one without a purpose).
    assert "formålet er det, snitfladen giver adgang til" not in text and "formålet ikke beskrevet" not in text
    assert "ikke registreret i KMD's snitfladekatalog" not in text and "Ikke registreret i kataloget" not in text


def test_the_price_list_is_named_once_without_nested_brackets(cast):
    cast.price_list.name = "Eksempelpriser 2025 (demo)"
    cast.price_list.save()
    text = document_text(issued(cast))
    assert "efter prislisten „Eksempelpriser 2025 (demo)“, gældende fra 1. januar 2020." in text
    assert "((" not in text and "))" not in text and "(01.01.2020)" not in text


def test_it_takes_effect_on_acceptance_and_runs_until_the_access_is_closed(cast):
    """ "Når opsætningen er fuldført, vil KMD's salgs- og kundeansvarlige informere jer om, at adgangen er
    etableret. Det er derefter jeres ansvar at notificere leverandøren af det eksterne system om, at adgangen er
    klar." — "Hvis I har behov for akut lukning af adgangen (...), så skal I kontakte supporten på KMD Opus
    Personale.\""""
    text = document_text(issued(cast))
    assert "Ikrafttræden. Tillægget træder i kraft, når Kunden har accepteret det." in text
    assert "Kundens ansvar at give Leverandøren besked om, at adgangen er klar" in text
    assert "Varighed. Tillægget og instruksen gælder, indtil adgangen lukkes." in text
    assert "kontakter Kunden supporten på KMD Opus Personale" in text


def test_the_instruction_is_given_even_when_the_interfaces_are_already_bought(cast):
    """ "Selvom I allerede har købt standardsnitfladen eller integrationspakken (...), skal tillægget stadig
    udarbejdes. Dette sikrer en klar skriftlig instruks fra jer som kunde til KMD om dataudvekslingen.\""""
    text = document_text(issued(cast))
    assert "Tillægget er Kundens instruks som dataansvarlig til KMD som databehandler" in text
    assert "så der foreligger en klar skriftlig instruks fra Kunden om dataudvekslingen" in text
    assert "KMD har ikke gennemgået eller testet Leverandørens integration" in text


def test_the_confirmed_agreement_with_the_vendor_is_printed(cast):
    """ "I bør dog ikke igangsætte dette, uden I først har aftalt dette med leverandøren af det eksterne system.\""""
    text = document_text(issued(cast))
    assert "Kunden har ved bestillingen bekræftet, at Kunden har indgået aftale med Leverandøren" in text


def test_the_stamped_copy_keeps_kmds_issuing_line(cast, django_capture_on_commit_callbacks):
    addendum = accepted(cast, django_capture_on_commit_callbacks)
    text = document_text(addendum, stamp=True)
    assert "For KMD A/S Udstedt og underskrevet elektronisk i Opus Adgang på vegne af KMD A/S af Am" in text
    assert "For Aarhus Kommune Accepteret af Tove Tegner, HR-chef" in text
    assert "Tillægget trådte i kraft ved Kundens accept den" in text


# --- The real PDF -----------------------------------------------------------------------------------


@weasyprint
def test_the_pdf_is_tagged_pdf_a_3a_with_a_structure_tree_and_embedded_fonts(cast):
    addendum = services.addendum_render(issued(cast).pk)
    reader = pdf_reader(addendum)
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"].value is True
    document = root["/StructTreeRoot"].get_object()["/K"][0].get_object()
    assert document["/S"] == "/Document"
    kinds = structure_kinds(root)
    assert {"/H1", "/H2", "/P", "/Table"} <= kinds, kinds
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert re.search(r"pdfaid:part(>|=\")3", xmp) and re.search(r"pdfaid:conformance(>|=\")A", xmp), xmp
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            fonts[str(font["/BaseFont"])] = "/FontFile2" in descriptor or "/FontFile3" in descriptor
    assert fonts and all(fonts.values()), fonts


@weasyprint
def test_the_pdf_reads_in_numbered_sections_formally_with_each_reason_for_0_kr(cast):
    standard = services.addendum_render(issued(cast, codes=("opret-fravaer", "moedetidsplaner")).pk)
    phase_out = services.addendum_render(
        issued(
            cast, system=cast.canteen, codes=("engangsydelser",), reason="phase_out", replaces_file_interface=cast.ind01
        ).pk
    )
    text = pdf_text(pdf_reader(standard)) + " " + pdf_text(pdf_reader(phase_out))
    positions = [text.index(f"{n}. {title}") for n, title in enumerate(SECTIONS, start=1)]  # in the first
    assert positions == sorted(positions)
    assert (
        "Intet opstartsvederlag for licens til Opret Fravær: snitfladen er omfattet af Kundens kontrakt for alle"
        in text
    )
    assert "Intet opsætningsvederlag: adgangen for KantineKort erstatter en filbaseret snitflade under" in text
    assert "omfattet af eksisterende kontrakt" not in text
    assert "Kunden" in text and not INFORMAL.search(text)
    assert "produktionsmiljøet" in text and "produktionmiljøet" not in text


@weasyprint
def test_the_package_pdf_gives_the_package_as_the_reason_for_no_licence_start(cast):
    addendum = services.addendum_render(issued(cast, purchase_model="package", package=cast.package, codes=()).pk)
    text = pdf_text(pdf_reader(addendum))
    assert "ved køb af integrationspakken Vagtplanpakke betales der ikke opstartsvederlag for licens" in text
    assert "omfattet af eksisterende kontrakt" not in text


@weasyprint
def test_the_stamped_pdf_keeps_kmds_issuing_line(cast, django_capture_on_commit_callbacks):
    addendum = accepted(cast, django_capture_on_commit_callbacks)
    reader = pdf_reader(addendum, "final_pdf")
    text = pdf_text(reader)
    assert "på vegne af KMD A/S af Am" in text and "Accepteret elektronisk i Opus Adgang" in text
    assert "/StructTreeRoot" in reader.trailer["/Root"]


@weasyprint
def test_no_section_heading_ends_a_page(cast, trusted_test_environment, good_bundle):
    """A heading stays with what it introduces, in documents of several lengths."""
    for interface in cast.interfaces.values():
        interface.description_da = "Oprette, ændre og slette fravær af forskellige arter. Hente information til brug for indberetning af fravær."
        interface.processing_purpose = "Udveksling af oplysninger til brug for lønberegningen i KMD Opus Personale."
        interface.data_subjects = "Kundens medarbejdere\nKundens tidligere medarbejdere"
        interface.data_categories = "Fraværsoplysninger"
        interface.special_categories = "Helbredsoplysninger (sygefravær, arbejdsskade)"
        interface.save()
    layouts = [
        {"codes": ("opret-fravaer",)},
        {"codes": ("opret-fravaer", "moedetidsplaner")},
        {"codes": ("opret-fravaer", "moedetidsplaner", "medarbejderoplysninger")},
        {"codes": tuple(cast.interfaces), "individual": True},
        {"purchase_model": "package", "package": cast.package, "codes": ()},
    ]
    # What must stand on the same page as each heading: the table it introduces, or the end of a short section.
    with_heading = {
        "Parter, hovedaftale og databehandleraftale": "Bestilling",
        "Det eksterne system og Leverandøren": "Årsag",
        "Formål": "KMD behandler personoplysningerne efter dette tillæg alene",
        "Standardsnitflader og kategorier af personoplysninger": "Giver adgang til",
        "Kategorier af registrerede": "Kundens tidligere medarbejdere",
        "Certifikat": "CVR i certifikatet",
        "Afklaring af adgangsrettigheder": "Registreret af",
        "Sikkerhedsforanstaltninger": "revisionslog",
        "Leverandørens rolle": "KMD har ikke gennemgået",
        "Priser": "Engangsvederlag (forfalder",
        "Instruks til KMD som databehandler": "går forud for tillægget",
        "Ikrafttræden og varighed": "Varighed.",
        "Accept": "For KMD A/S",
    }
    for facts in layouts:
        if facts.pop("individual", False):
            addendum = services.addendum_render(issued_individual(cast, good_bundle, **facts).pk)
        else:
            addendum = services.addendum_render(issued(cast, **facts).pk)
            set_aside(cast, addendum)
        pages = [flat(page.extract_text()) for page in pdf_reader(addendum).pages]
        for title, follower in with_heading.items():
            on = [n for n, text in enumerate(pages) if re.search(rf"\b\d+\. {re.escape(title)}\b", text)]
            if title in ("Certifikat", "Afklaring af adgangsrettigheder") and not on:
                continue
            assert len(on) == 1 and follower in pages[on[0]], (facts, title, on)
