"""The chain's checks at their boundaries: validity to the second, key sizes and curves, depth, the anchors."""

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from certificates.chains import chain_entry
from certificates.findings import ERROR
from certificates.testing import make_issuing_ca, make_leaf, pem, rsa_key
from certificates.validation import TrustAnchors, inspect_bundle
from certificates.windows import RENEWAL_WINDOW_DAYS

SECOND = timedelta(seconds=1)


def check(data: bytes, trust, at: datetime | None = None, **kwargs):
    return inspect_bundle(data, "kaede.pem", trust=trust, at=at or datetime.now(UTC), **kwargs)


def certificate(subject: str, public_key, issuer: x509.Certificate, issuer_key, *, ca: bool, basic_constraints=True):
    """A certificate made by hand, for the shapes make_leaf does not make."""
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=900))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    )
    if basic_constraints:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    usage = (False, False, False, False, False, True, True, False, False) if ca else (True,) + (False,) * 8
    builder = builder.add_extension(x509.KeyUsage(*usage), critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


# --- Validity, to the second ----------------------------------------------------------------------


def test_a_leaf_is_valid_through_its_last_second_and_expired_one_second_later(pki, leaf, trust):
    last = leaf.not_valid_after_utc
    assert check(pem(leaf, pki.issuing), trust, at=last).valid
    report = check(pem(leaf, pki.issuing), trust, at=last + SECOND)
    assert report.codes() == ["leaf_expired"]
    assert f"udløb {last:%d.%m.%Y}" in report.findings[0].da and f"expired on {last:%Y-%m-%d}" in report.findings[0].en


def test_a_leaf_is_valid_from_its_first_second_and_not_one_second_earlier(pki, leaf, trust):
    first = leaf.not_valid_before_utc
    assert check(pem(leaf, pki.issuing), trust, at=first).valid
    report = check(pem(leaf, pki.issuing), trust, at=first - SECOND)
    assert report.codes() == ["leaf_not_yet_valid"]
    assert f"gælder først fra {first:%d.%m.%Y}" in report.findings[0].da


def test_an_issuing_ca_not_yet_valid_is_named_as_the_issuer(pki, trust, now):
    issuing, key = make_issuing_ca(pki, not_before=now + timedelta(days=2), not_after=now + timedelta(days=900))
    leaf = make_leaf(pki, issuer=issuing, issuer_key=key, not_before=now + timedelta(days=3))
    report = check(pem(leaf, issuing), trust, at=now + timedelta(days=1))
    assert report.codes() == ["leaf_not_yet_valid", "issuer_not_yet_valid"]


def test_the_expiry_warning_starts_when_the_renewal_window_has_begun(pki, leaf, trust):
    # The renewal window (certificates/windows.py, 60 days): the first expiry notice and the worklists start there.
    window_start = leaf.not_valid_after_utc - timedelta(days=RENEWAL_WINDOW_DAYS)
    assert check(pem(leaf, pki.issuing), trust, at=window_start).findings == ()
    report = check(pem(leaf, pki.issuing), trust, at=window_start + SECOND)
    assert report.valid and report.codes() == ["leaf_expires_soon"]
    assert "– om 59 dage." in report.findings[0].da and "– in 59 days." in report.findings[0].en


def test_no_expiry_warning_is_added_to_a_refused_chain(pki, leaf, trust):
    report = check(pem(leaf), trust, at=leaf.not_valid_after_utc - timedelta(days=1))
    assert report.codes() == ["missing_intermediate"]


# --- The leaf's key -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "described"),
    [
        (lambda: rsa_key(2048, 11), "RSA 2048"),  # the smallest RSA key allowed
        (lambda: ec.generate_private_key(ec.SECP384R1()), "EC secp384r1"),
    ],
)
def test_the_smallest_rsa_key_and_a_p384_key_are_accepted(key, described, pki, trust):
    report = check(pem(make_leaf(pki, key=key()), pki.issuing), trust)
    assert report.valid, report.findings
    assert report.leaf.key == described


def test_an_rsa_key_one_step_below_2048_bits_is_weak(pki, trust):
    report = check(pem(make_leaf(pki, key=rsa_key(1024, 12)), pki.issuing), trust)
    assert report.codes() == ["weak_key"]
    assert "RSA-nøgle er kun på 1024 bit; mindst 2048 kræves" in report.findings[0].da


def test_a_key_that_is_neither_rsa_nor_ec_is_not_supported(pki, trust):
    leaf = certificate(
        "Ed25519-system", ed25519.Ed25519PrivateKey.generate().public_key(), pki.issuing, pki.issuing_key, ca=False
    )
    report = check(pem(leaf, pki.issuing), trust)
    assert report.codes() == ["unsupported_key", "cvr_missing"]
    assert report.findings[0].da.startswith("Systemcertifikatets nøgletype understøttes ikke")


# --- Which certificate is the leaf ----------------------------------------------------------------


def test_a_certificate_without_basic_constraints_is_no_ca_and_so_the_leaf(pki, trust):
    public_key = rsa_key(2048, 13).public_key()
    leaf = certificate(
        "Uden begrænsninger", public_key, pki.issuing, pki.issuing_key, ca=False, basic_constraints=False
    )
    report = check(pem(leaf, pki.issuing), trust)
    assert report.valid and report.codes() == ["cvr_missing"]
    assert report.leaf.subject == "CN=Uden begrænsninger"


# --- Depth ----------------------------------------------------------------------------------------


def _chain_of_cas(pki, count: int) -> tuple[list[x509.Certificate], list]:
    """`count` CAs below the root, each issued by the one before, and their keys."""
    cas, keys = [pki.root], [pki.root_key]
    for number in range(count):
        keys.append(rsa_key(2048, 600 + number))
        cas.append(certificate(f"Mellem-CA {number}", keys[-1].public_key(), cas[-1], keys[-2], ca=True))
    return cas[1:], keys[1:]


def test_five_issuing_cas_between_leaf_and_root_are_followed_and_six_are_too_many(pki, trust):
    cas, keys = _chain_of_cas(pki, 6)
    five_deep = make_leaf(pki, issuer=cas[4], issuer_key=keys[4])
    report = check(pem(five_deep, *cas[:5]), trust)
    assert report.valid, report.findings
    assert [entry.role for entry in report.chain] == ["leaf"] + ["intermediate"] * 5
    six_deep = make_leaf(pki, issuer=cas[5], issuer_key=keys[5])
    report = check(pem(six_deep, *cas), trust)
    assert report.codes() == ["chain_too_long"]
    assert "Kæden er længere end 6 certifikater." in report.findings[0].da


# --- The anchors ----------------------------------------------------------------------------------


def test_trust_anchors_from_files_put_self_signed_roots_apart_from_issuing_cas(pki):
    anchors = TrustAnchors.from_pem_files("test", [pem(pki.issuing, pki.root), pem(pki.root)])
    assert anchors.environment == "test"
    assert anchors.roots == (pki.root, pki.root)
    assert anchors.known_intermediates == (pki.issuing,)


def test_a_leaf_under_an_unknown_issuer_leads_to_a_root_not_trusted_in_production(pki, other_pki):
    production = TrustAnchors("production", (pki.root,), (pki.issuing,))
    report = check(pem(make_leaf(other_pki), other_pki.issuing), production)
    assert report.codes() == ["root_not_trusted"]
    assert "som ikke er et godkendt rodcertifikat for produktionsmiljøet" in report.findings[0].da
    assert "which is not a trusted root for the production environment" in report.findings[0].en


# --- What is missing ------------------------------------------------------------------------------


def test_a_root_alone_is_named_as_a_ca_and_not_the_systems_certificate(pki, trust):
    report = check(pem(pki.root), trust)
    assert report.codes() == ["leaf_is_ca"]
    assert "„Den Danske Stat OCES rod-CA“ er et CA-certifikat (en udsteder)" in report.findings[0].da


def test_two_cas_without_a_leaf_name_the_lower_one_as_the_ca_in_place_of_the_leaf(pki, trust):
    sub_key = rsa_key(2048, 15)
    sub_ca = certificate("Under-CA", sub_key.public_key(), pki.issuing, pki.issuing_key, ca=True)
    report = check(pem(pki.issuing, sub_ca), trust)
    assert report.codes() == ["leaf_is_ca"]
    assert "„Under-CA“ er et CA-certifikat (en udsteder)" in report.findings[0].da


def test_a_certificate_that_is_no_ca_but_issued_the_leaf_is_not_taken_for_a_second_leaf(pki, trust):
    signer_key = rsa_key(2048, 16)
    signer = certificate("Ikke-CA", signer_key.public_key(), pki.issuing, pki.issuing_key, ca=False)
    leaf = certificate("System", rsa_key(2048, 17).public_key(), signer, signer_key, ca=False)
    report = check(pem(leaf, signer, pki.issuing), trust)
    assert "multiple_leaves" not in report.codes()
    assert report.codes(ERROR) == ["chain_invalid"]


def test_a_lone_leaf_whose_issuer_is_unknown_is_told_that_its_issuer_is_missing(other_pki, trust):
    report = check(pem(make_leaf(other_pki)), trust)
    assert report.codes() == ["missing_intermediate"]
    assert "udstederen „Den Danske Stat OCES udstedende-CA 1“ mangler" in report.findings[0].da


def test_an_issuing_ca_below_a_known_one_that_is_missing_names_the_known_one(pki, trust):
    sub_key = rsa_key(2048, 14)
    sub_ca = certificate("Under-CA", sub_key.public_key(), pki.issuing, pki.issuing_key, ca=True)
    leaf = make_leaf(pki, issuer=sub_ca, issuer_key=sub_key)
    report = check(pem(leaf, sub_ca), trust)
    assert report.codes() == ["missing_intermediate"]
    assert "udstederen „Den Danske Stat OCES udstedende-CA 1“ mangler" in report.findings[0].da


def test_a_key_of_another_kind_is_described_by_its_type_in_a_stored_entry(pki):
    public_key = ed25519.Ed25519PrivateKey.generate().public_key()
    entry = chain_entry(certificate("Ed25519", public_key, pki.issuing, pki.issuing_key, ca=False), "leaf")
    assert entry.key == "Ed25519PublicKey"
