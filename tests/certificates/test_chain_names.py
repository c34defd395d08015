"""Who issued whom, by name and key identifier; and certificate names written and read as RFC 4514."""

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from certificates.chains import NameParts, chain_entry, describe_name
from certificates.testing import make_leaf, pem, rsa_key
from certificates.validation import inspect_bundle


def check(data: bytes, trust):
    return inspect_bundle(data, "kaede.pem", trust=trust, at=datetime.now(UTC))


def same_name_other_key(pki) -> x509.Certificate:
    """An issuing CA with exactly the real one's name, under the same root, but with a key of its own."""
    key = rsa_key(2048, 42)
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(pki.issuing.subject)
        .issuer_name(pki.root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=10))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(pki.root_key.public_key()), critical=False)
        .sign(pki.root_key, hashes.SHA256())
    )


# --- The issuer: its name, then its key identifier -------------------------------------------------


def test_a_ca_with_the_issuers_name_but_another_key_is_not_taken_for_the_issuer(pki, leaf, trust):
    impostor = same_name_other_key(pki)
    assert impostor.subject == leaf.issuer  # the names agree; only the key identifiers tell them apart
    report = check(pem(leaf, impostor), trust)
    assert report.codes() == ["missing_intermediate"]
    assert "udstederen „Den Danske Stat OCES udstedende-CA 1“ mangler" in report.findings[0].da
    assert "the issuer “Den Danske Stat OCES udstedende-CA 1” is missing" in report.findings[0].en


def test_the_issuer_is_found_by_its_key_identifier_among_two_of_the_same_name(pki, leaf, trust):
    report = check(pem(leaf, same_name_other_key(pki), pki.issuing), trust)
    assert report.codes() == ["unrelated_certificate"]  # the look-alike is the one left over
    assert "hører ikke til kæden for „Fraværsoverblik (systemcertifikat)“" in report.findings[0].da


# --- Names written (chain_entry) ------------------------------------------------------------------


def test_a_stored_name_reads_with_the_labels_people_and_the_register_know(pki):
    leaf = make_leaf(pki, cvr="26457513", organisation="Lokal IT ApS", common_name="Fraværsoverblik")
    entry = chain_entry(leaf, "leaf")
    serial = leaf.subject.get_attributes_for_oid(x509.NameOID.SERIAL_NUMBER)[0].value
    assert entry.subject == (
        f"CN=Fraværsoverblik,serialNumber={serial},organizationIdentifier=NTRDK-26457513,O=Lokal IT ApS,C=DK"
    )
    assert entry.issuer == "CN=Den Danske Stat OCES udstedende-CA 1,OU=Test - cti,O=Den Danske Stat,C=DK"
    assert (entry.role, entry.cvr, entry.key) == ("leaf", "26457513", "RSA 3072")


def test_special_characters_are_escaped_when_written_and_unescaped_when_read(pki):
    leaf = make_leaf(pki, organisation="Lokal IT, Vest + Syd", common_name="#1 Fraværsoverblik")
    subject = chain_entry(leaf, "leaf").subject
    assert "CN=\\#1 Fraværsoverblik" in subject and "O=Lokal IT\\, Vest \\+ Syd" in subject
    parts = describe_name(subject)
    assert (parts.holder, parts.organisation, parts.cvr) == ("#1 Fraværsoverblik", "Lokal IT, Vest + Syd", "26457513")


# --- Names read (describe_name) -------------------------------------------------------------------

UUID = "0f7a9b4e-2c1d-4e5f-8a9b-1c2d3e4f5a6b"


@pytest.mark.parametrize(
    ("rfc4514", "holder", "organisation"),
    [
        ("CN=\\4Bommunens vagtplan,O=Lokal IT ApS", "Kommunens vagtplan", "Lokal IT ApS"),  # \4B is "K"
        ("CN=Frav\\C3\\A6rsoverblik,O=Lokal IT\\2C ApS", "Fraværsoverblik", "Lokal IT, ApS"),  # UTF-8 in hex pairs
        ("CN=\\#1\\2B2,O=\\22Citat\\22", "#1+2", '"Citat"'),
        ("CN=a\\\\b,O=\\3Cx\\3E", "a\\b", "<x>"),
    ],
)
def test_hex_and_character_escapes_are_read_back_as_the_characters_they_stand_for(rfc4514, holder, organisation):
    parts = describe_name(f"{rfc4514},organizationIdentifier=NTRDK-26457513,serialNumber=UI:DK-O:G:{UUID}")
    assert parts == NameParts(holder=holder, organisation=organisation, cvr="26457513", uuid=UUID)


def test_an_escaped_identifier_and_serial_number_still_give_the_cvr_and_uuid():
    parts = describe_name(f"CN=x,organizationIdentifier=\\4ETRDK-26457513,serialNumber=\\55I:DK-O:G:{UUID}")
    assert (parts.cvr, parts.uuid) == ("26457513", UUID)


def test_only_an_ntrdk_identifier_is_a_cvr_and_only_a_ui_serial_number_a_uuid():
    parts = describe_name("CN=x,organizationIdentifier=VATDK-26457513,serialNumber=PID:9208-2002-2-123")
    assert (parts.holder, parts.cvr, parts.uuid) == ("x", "", "")


def test_a_name_without_the_parts_leaves_them_empty():
    assert describe_name("C=DK") == NameParts(holder="", organisation="", cvr="", uuid="")


@pytest.mark.parametrize("broken", ["no equals sign", "CN=\\ZZ", "=Lokal IT ApS"])
def test_a_string_that_is_no_name_is_shown_whole_as_the_holder(broken):
    assert describe_name(broken) == NameParts(holder=broken, organisation="", cvr="", uuid="")
