"""The chain of an upload's certificates: built, checked and verified; names read as RFC 4514. A pure core.

`check_chain` finds the system's own (leaf) certificate, builds its path to a trusted root through
the upload itself (so it can say precisely what is missing or extra), checks each certificate's
algorithm, validity and key, and lets `cryptography`'s verifier judge the signatures with an
extension policy that fits OCES3. No Django, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from .findings import ERROR, WARNING, Intake, Rejected
from .findings import common_name as _cn
from .windows import RENEWAL_WINDOW_DAYS

MAX_CHAIN_DEPTH = 6
MIN_RSA_BITS = 2048
ALLOWED_EC_CURVES = (ec.SECP256R1, ec.SECP384R1)

ORGANIZATION_IDENTIFIER = x509.ObjectIdentifier("2.5.4.97")
_CVR_PATTERN = re.compile(r"^NTRDK-(\d{8})$")


@dataclass(frozen=True)
class ChainEntry:
    role: str  # leaf, intermediate or root
    subject: str
    issuer: str
    sha256: str
    serial: str
    not_before: datetime
    not_after: datetime
    key: str
    cvr: str
    pem: str


@dataclass(frozen=True)
class TrustAnchors:
    """The roots trusted for one environment, and known issuing CAs for better messages."""

    environment: str
    roots: tuple[x509.Certificate, ...]
    known_intermediates: tuple[x509.Certificate, ...] = ()

    @classmethod
    def from_pem_files(cls, environment: str, blobs: list[bytes]) -> TrustAnchors:
        roots, intermediates = [], []
        for blob in blobs:
            for cert in x509.load_pem_x509_certificates(blob):
                (roots if is_self_signed(cert) else intermediates).append(cert)
        return cls(environment, tuple(roots), tuple(intermediates))


# --- Who issued whom --------------------------------------------------------------------------


def _key_identifier(cert: x509.Certificate, kind) -> bytes | None:
    try:
        value = cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None
    return value.key_identifier if kind is x509.AuthorityKeyIdentifier else value.digest


def issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Does `issuer` look like the issuer of `cert`? Names and key identifiers only.

    Signatures are left to the verifier, so a certificate with a weak or broken signature is still
    placed in its chain and gets a precise finding instead of "issuer missing".
    """
    if cert.issuer != issuer.subject:
        return False
    authority = _key_identifier(cert, x509.AuthorityKeyIdentifier)
    subject = _key_identifier(issuer, x509.SubjectKeyIdentifier)
    if authority is not None and subject is not None:
        return authority == subject
    return True


def is_self_signed(cert: x509.Certificate) -> bool:
    return issued_by(cert, cert)


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _cvr_of(cert: x509.Certificate) -> str:
    for attribute in cert.subject.get_attributes_for_oid(ORGANIZATION_IDENTIFIER):
        match = _CVR_PATTERN.match(str(attribute.value))
        if match:
            return match.group(1)
    return ""


def _key_description(cert: x509.Certificate) -> str:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    return type(key).__name__


def _ee_extension_policy() -> ExtensionPolicy:
    """The policy for the system's own (end-entity) certificate.

    cryptography's default client profile follows the web PKI and requires a subjectAltName.
    Real OCES3 system/organisation certificates carry no subjectAltName and no extendedKeyUsage,
    so the default would reject every genuine one. We therefore allow SAN to be absent, and accept
    an EKU only when it permits TLS client authentication, the use KMD's web services make of it.
    """

    def eku_allows_client_auth(_policy, _cert, eku: x509.ExtendedKeyUsage | None) -> None:
        if eku is not None and ExtendedKeyUsageOID.CLIENT_AUTH not in eku:
            raise ValueError("extendedKeyUsage does not allow clientAuth")

    return (
        ExtensionPolicy.webpki_defaults_ee()
        .may_be_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, None)
        .may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, eku_allows_client_auth)
    )


# --- The chain --------------------------------------------------------------------------------


def check_chain(
    certificates: list[x509.Certificate], trust: TrustAnchors, at: datetime, expected_cvr: str, intake: Intake
) -> tuple[ChainEntry, ...]:
    """The verified chain, leaf first, as it was delivered; empty when any finding so far is an error."""
    if not trust.roots:
        env_da, env_en = _environment(trust)
        raise intake.stop(
            "no_trust_anchors",
            f"Certifikater til {env_da} kan ikke kontrolleres, fordi der ikke er opsat rodcertifikater for {env_da}. "
            "Kontakt KMD Opus Personale support; din fil er ikke fejlbehæftet.",
            f"Certificates for {env_en} cannot be checked because no root certificates are configured for it. "
            "Contact KMD Opus Personale support; your file is not at fault.",
        )
    leaf = _find_leaf(certificates, intake)
    path = _path_to_anchor(leaf, certificates, trust, intake)
    for extra in (c for c in certificates if not any(c is p for p in path)):
        intake.add(
            "unrelated_certificate",
            ERROR,
            f"„{_cn(extra.subject)}“ hører ikke til kæden for „{_cn(leaf.subject)}“. Fjern det, så uploaden kun "
            "indeholder systemets certifikat og dets udstedere.",
            f"“{_cn(extra.subject)}” is not part of the chain of “{_cn(leaf.subject)}”. Remove it so the upload "
            "holds only the system's certificate and its issuers.",
        )
    _check_certificates(path, leaf, at, intake)
    _check_cvr(leaf, expected_cvr, intake)
    if intake.has_errors():
        return ()
    verified = _verify(leaf, path, trust, at, intake)
    roles = ["leaf"] + ["intermediate"] * (len(verified) - 2) + ["root"]
    root_uploaded = is_self_signed(path[-1])
    entries = []
    for cert, role in zip(verified, roles, strict=True):
        if role == "root" and not root_uploaded:
            continue  # the anchor was not in the upload; the chain shows what was delivered
        entries.append(chain_entry(cert, role))
    return tuple(entries)


def _environment(trust: TrustAnchors) -> tuple[str, str]:
    """The environment the anchors are for, as the Danish and the English messages name it."""
    env_da = "produktionsmiljøet" if trust.environment == "production" else "testmiljøet"
    return env_da, f"the {trust.environment} environment"


def _find_leaf(certificates: list[x509.Certificate], intake: Intake) -> x509.Certificate:
    """The one certificate that issues none of the others, is not self-signed and is no CA."""
    issuers_in_upload = {
        id(c) for c in certificates for other in certificates if other is not c and issued_by(other, c)
    }
    bottoms = [c for c in certificates if id(c) not in issuers_in_upload and not is_self_signed(c)]
    end_entities = [c for c in bottoms if not _is_ca(c)]
    if len(end_entities) > 1:
        names = ", ".join(f"“{_cn(c.subject)}”" for c in end_entities)
        raise intake.stop(
            "multiple_leaves",
            f"Uploaden indeholder flere systemcertifikater ({names}). Upload kæden for ét system ad gangen.",
            f"The upload contains several system certificates ({names}). Upload the chain for one system at a time.",
        )
    if not end_entities:
        candidate = bottoms[0] if bottoms else certificates[0]
        raise intake.stop(
            "leaf_is_ca",
            f"Systemets eget certifikat mangler: „{_cn(candidate.subject)}“ er et CA-certifikat (en udsteder), ikke "
            "et system- eller organisationscertifikat. Tilføj systemets OCES3-certifikat til uploaden.",
            f"The system's own certificate is missing: “{_cn(candidate.subject)}” is a CA (issuer) certificate, not "
            "a system or organisation certificate. Add the system's OCES3 certificate to the upload.",
        )
    return end_entities[0]


def _path_to_anchor(
    leaf: x509.Certificate, certificates: list[x509.Certificate], trust: TrustAnchors, intake: Intake
) -> list[x509.Certificate]:
    """The leaf and its issuers in the upload, up to a trusted root; stops saying what is missing or untrusted.

    Built here rather than by the verifier, so that the user is told precisely which issuer is missing.
    """
    env_da, env_en = _environment(trust)
    path = [leaf]
    while len(path) <= MAX_CHAIN_DEPTH:
        current = path[-1]
        if is_self_signed(current):
            if not any(current == root for root in trust.roots):
                raise intake.stop(
                    "root_not_trusted",
                    f"Kæden ender i „{_cn(current.subject)}“, som ikke er et godkendt rodcertifikat for {env_da}. "
                    "Tjek, at certifikatet er udstedt til det rigtige miljø (test eller produktion).",
                    f"The chain ends at “{_cn(current.subject)}”, which is not a trusted root for {env_en}. Check "
                    "that the certificate was issued for the right environment (test or production).",
                )
            return path
        issuer = next((c for c in certificates if c is not current and issued_by(current, c)), None)
        if issuer is not None:
            path.append(issuer)
            continue
        if any(issued_by(current, root) for root in trust.roots):
            return path
        raise _no_issuer(current, leaf, trust, intake)
    raise intake.stop(
        "chain_too_long",
        f"Kæden er længere end {MAX_CHAIN_DEPTH} certifikater. Upload kun systemets certifikat og dets udstedere.",
        f"The chain is longer than {MAX_CHAIN_DEPTH} certificates. Upload only the system's certificate and its "
        "issuers.",
    )


def _no_issuer(current: x509.Certificate, leaf: x509.Certificate, trust: TrustAnchors, intake: Intake) -> Rejected:
    """The issuer of `current` is neither in the upload nor a trusted root: missing, or leading to a foreign root."""
    env_da, env_en = _environment(trust)
    known = next((c for c in trust.known_intermediates if current.issuer == c.subject), None)
    if current is leaf or known is not None:
        missing = _cn(current.issuer)
        return intake.stop(
            "missing_intermediate",
            f"Kæden er ikke komplet: udstederen „{missing}“ mangler. Tilføj udstederens certifikat (fx „Den "
            "Danske Stat OCES udstedende-CA 1“) i samme .pem- eller .zip-fil, så hele kæden er med.",
            f"The chain is incomplete: the issuer “{missing}” is missing. Add the issuer's certificate (e.g. “Den "
            "Danske Stat OCES udstedende-CA 1”) to the same .pem or .zip file so the whole chain is included.",
        )
    return intake.stop(
        "root_not_trusted",
        f"Kæden fører til „{_cn(current.issuer)}“, som ikke er et godkendt rodcertifikat for {env_da}. Tjek, at "
        "certifikatet er udstedt til det rigtige miljø (test eller produktion).",
        f"The chain leads to “{_cn(current.issuer)}”, which is not a trusted root for {env_en}. Check that the "
        "certificate was issued for the right environment (test or production).",
    )


def _verify(
    leaf: x509.Certificate, path: list[x509.Certificate], trust: TrustAnchors, at: datetime, intake: Intake
) -> list[x509.Certificate]:
    """The chain `cryptography`'s verifier builds from the leaf to a trusted root; it judges the signatures."""
    intermediates = [c for c in path[1:] if not is_self_signed(c)]
    verifier = (
        PolicyBuilder()
        .store(Store(list(trust.roots)))
        .time(at)
        .max_chain_depth(MAX_CHAIN_DEPTH)
        .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=_ee_extension_policy())
        .build_client_verifier()
    )
    try:
        return verifier.verify(leaf, intermediates).chain
    except VerificationError as error:
        raise intake.stop(
            "chain_invalid",
            "Certifikatkæden kunne ikke godkendes (en signatur eller en udvidelse i et af certifikaterne er ikke "
            "gyldig). Hent kæden igen fra udstederen, og kontakt KMD Opus Personale support, hvis fejlen består. "
            f"Teknisk detalje: {error}",
            "The certificate chain could not be verified (a signature or an extension in one of the certificates "
            f"is not valid). Fetch the chain again from the issuer, and contact support if it persists. Detail: {error}",
        ) from None


# --- Each certificate -------------------------------------------------------------------------


def _check_certificates(path: list[x509.Certificate], leaf: x509.Certificate, at: datetime, intake: Intake) -> None:
    for cert in path:
        _check_signature_algorithm(cert, intake)
        _check_validity(cert, cert is leaf, at, intake)
    _check_leaf_key(leaf, intake)
    _check_leaf_key_usage(leaf, intake)
    if not intake.has_errors():
        _warn_if_expiring_soon(leaf, at, intake)


def _check_signature_algorithm(cert: x509.Certificate, intake: Intake) -> None:
    algorithm = cert.signature_hash_algorithm
    if algorithm is not None and isinstance(algorithm, (hashes.SHA1, hashes.MD5)):
        intake.add(
            "weak_signature_algorithm",
            ERROR,
            f"„{_cn(cert.subject)}“ er signeret med {algorithm.name.upper()}, som ikke længere er sikker. "
            "OCES3-certifikater bruger SHA-256 eller stærkere; hent det rigtige certifikat.",
            f"“{_cn(cert.subject)}” is signed with {algorithm.name.upper()}, which is no longer secure. "
            "OCES3 certificates use SHA-256 or stronger; fetch the right certificate.",
        )


def _check_validity(cert: x509.Certificate, is_leaf: bool, at: datetime, intake: Intake) -> None:
    name = _cn(cert.subject)
    if cert.not_valid_after_utc < at:
        intake.add(
            "leaf_expired" if is_leaf else "issuer_expired",
            ERROR,
            f"„{name}“ udløb {cert.not_valid_after_utc:%d.%m.%Y}. Bestil et nyt certifikat, og upload den nye kæde.",
            f"“{name}” expired on {cert.not_valid_after_utc:%Y-%m-%d}. Order a new certificate and upload the new "
            "chain.",
        )
    elif cert.not_valid_before_utc > at:
        intake.add(
            "leaf_not_yet_valid" if is_leaf else "issuer_not_yet_valid",
            ERROR,
            f"„{name}“ gælder først fra {cert.not_valid_before_utc:%d.%m.%Y}. Upload det, når det er gyldigt, "
            "eller tjek maskinens ur, hvis certifikatet lige er udstedt.",
            f"“{name}” is only valid from {cert.not_valid_before_utc:%Y-%m-%d}. Upload it once it is valid.",
        )


def _check_leaf_key(leaf: x509.Certificate, intake: Intake) -> None:
    key = leaf.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            intake.add(
                "weak_key",
                ERROR,
                f"Systemcertifikatets RSA-nøgle er kun på {key.key_size} bit; mindst {MIN_RSA_BITS} kræves (OCES3 "
                "bruger 3072). Bestil et nyt certifikat.",
                f"The system certificate's RSA key is only {key.key_size} bits; at least {MIN_RSA_BITS} are required "
                "(OCES3 uses 3072). Order a new certificate.",
            )
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ALLOWED_EC_CURVES):
            intake.add(
                "weak_key",
                ERROR,
                f"Systemcertifikatets EC-kurve {key.curve.name} er ikke tilladt; brug P-256 eller P-384.",
                f"The system certificate's EC curve {key.curve.name} is not allowed; use P-256 or P-384.",
            )
    else:
        intake.add(
            "unsupported_key",
            ERROR,
            "Systemcertifikatets nøgletype understøttes ikke; brug RSA (mindst 2048 bit) eller EC P-256/P-384.",
            "The system certificate's key type is not supported; use RSA (at least 2048 bits) or EC P-256/P-384.",
        )


def _check_leaf_key_usage(leaf: x509.Certificate, intake: Intake) -> None:
    try:
        eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return
    if ExtendedKeyUsageOID.CLIENT_AUTH not in eku:
        intake.add(
            "eku_not_client_auth",
            ERROR,
            "Systemcertifikatet må ifølge sin „extended key usage“ ikke bruges til at logge på webservices "
            "(clientAuth). Brug systemets OCES3-system- eller organisationscertifikat.",
            "The system certificate's extended key usage does not allow logging on to web services (clientAuth). "
            "Use the system's OCES3 system or organisation certificate.",
        )


def _warn_if_expiring_soon(leaf: x509.Certificate, at: datetime, intake: Intake) -> None:
    left = leaf.not_valid_after_utc - at
    # Already due for renewal on arrival (certificates/windows.py): the same days the notices and worklists use.
    if left < timedelta(days=RENEWAL_WINDOW_DAYS):
        intake.add(
            "leaf_expires_soon",
            WARNING,
            f"Systemcertifikatet udløber {leaf.not_valid_after_utc:%d.%m.%Y} – om {left.days} dage. Bestil et nyt "
            "i god tid, og upload det, når det er klar.",
            f"The system certificate expires on {leaf.not_valid_after_utc:%Y-%m-%d} – in {left.days} days. Order "
            "a new one in good time and upload it when ready.",
        )


def _check_cvr(leaf: x509.Certificate, expected_cvr: str, intake: Intake) -> None:
    cvr = _cvr_of(leaf)
    if not cvr:
        intake.add(
            "cvr_missing",
            WARNING,
            "Systemcertifikatet angiver ikke et CVR-nummer (NTRDK-…). Tjek, at det er et OCES3-system- eller "
            "organisationscertifikat.",
            "The system certificate names no CVR number (NTRDK-…). Check that it is an OCES3 system or organisation "
            "certificate.",
        )
    elif expected_cvr and cvr != expected_cvr:
        intake.add(
            "cvr_mismatch",
            WARNING,
            f"Certifikatet er udstedt til CVR {cvr}, men leverandøren har CVR {expected_cvr}. Det kan være i orden "
            "(fx en underleverandør), men tjek, at det er det rigtige certifikat.",
            f"The certificate was issued to CVR {cvr}, but the vendor's CVR is {expected_cvr}. That may be fine (e.g. "
            "a subcontractor), but check that it is the right certificate.",
        )


# --- Names ------------------------------------------------------------------------------------

NAME_LABELS = {NameOID.SERIAL_NUMBER: "serialNumber", ORGANIZATION_IDENTIFIER: "organizationIdentifier"}


def chain_entry(cert: x509.Certificate, role: str) -> ChainEntry:
    """What is kept of one certificate of an accepted chain; its names as RFC 4514 strings with readable labels."""
    return ChainEntry(
        role=role,
        subject=cert.subject.rfc4514_string(NAME_LABELS),
        issuer=cert.issuer.rfc4514_string(NAME_LABELS),
        sha256=cert.fingerprint(hashes.SHA256()).hex(),
        serial=format(cert.serial_number, "x"),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        key=_key_description(cert),
        cvr=_cvr_of(cert),
        pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
    )


@dataclass(frozen=True)
class NameParts:
    """A certificate name as a person reads it: the holder, the organisation, and its CVR and UUID."""

    holder: str
    organisation: str
    cvr: str
    uuid: str


def describe_name(rfc4514: str) -> NameParts:
    """Split a stored RFC 4514 name (as `chain_entry` wrote it) into what HR staff recognise; unknowns stay empty."""
    try:
        name = x509.Name.from_rfc4514_string(rfc4514, {label: oid for oid, label in NAME_LABELS.items()})
    except ValueError:
        return NameParts(holder=rfc4514, organisation="", cvr="", uuid="")

    def first(oid: x509.ObjectIdentifier) -> str:
        values = name.get_attributes_for_oid(oid)
        return str(values[0].value) if values else ""

    identifier = first(ORGANIZATION_IDENTIFIER)
    serial = first(NameOID.SERIAL_NUMBER)
    return NameParts(
        holder=first(NameOID.COMMON_NAME),
        organisation=first(NameOID.ORGANIZATION_NAME),
        cvr=identifier.removeprefix("NTRDK-") if identifier.startswith("NTRDK-") else "",
        # OCES3 serial numbers read "UI:DK-O:G:<uuid>"; the UUID is what a certificate portal shows.
        uuid=serial.rsplit(":", 1)[-1] if serial.startswith("UI:") else "",
    )
