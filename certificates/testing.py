"""OCES3-shaped certificate chains made on the spot with `cryptography`.

Used by the tests, the benchmark and the demo data: the real OCES3 CAs' keys are not ours, so we
make a look-alike hierarchy (root -> issuing CA -> system certificate) with the same shape: RSA
3072 keys, RSASSA-PSS signatures, no subjectAltName or extendedKeyUsage on the leaf, and
`organizationIdentifier=NTRDK-<CVR>` and `serialNumber=UI:DK-O:G:<uuid>` in the leaf's subject.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

ORGANIZATION_IDENTIFIER = x509.ObjectIdentifier("2.5.4.97")


@cache
def rsa_key(bits: int = 3072, slot: int = 0) -> rsa.RSAPrivateKey:
    """Key generation is slow; each (size, slot) is made once per process."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _pss(algorithm: hashes.HashAlgorithm) -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(algorithm), salt_length=algorithm.digest_size)


def _ca_name(common_name: str, unit: str) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "DK"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Den Danske Stat"),
    ]
    if unit:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _ca_extensions(builder: x509.CertificateBuilder, key, issuer_key, path_length: int | None):
    builder = (
        builder.add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer_key is not key:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    return builder


@dataclass(frozen=True)
class Pki:
    root: x509.Certificate
    root_key: rsa.RSAPrivateKey
    issuing: x509.Certificate
    issuing_key: rsa.RSAPrivateKey


def make_pki(
    *, unit: str = "Test - cti", slot: int = 0, now: datetime | None = None, issuing_valid_days: int = 3650
) -> Pki:
    """A root and an issuing CA named like OCES3's, signed with RSASSA-PSS/SHA-512 as the real ones are."""
    now = now or datetime.now(UTC)
    root_key, issuing_key = rsa_key(3072, 100 + slot), rsa_key(3072, 200 + slot)
    root_name = _ca_name("Den Danske Stat OCES rod-CA", unit)
    root = _ca_extensions(
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=400))
        .not_valid_after(now + timedelta(days=9000)),
        root_key,
        root_key,
        None,
    ).sign(root_key, hashes.SHA512(), rsa_padding=_pss(hashes.SHA512()))
    issuing = _ca_extensions(
        x509.CertificateBuilder()
        .subject_name(_ca_name("Den Danske Stat OCES udstedende-CA 1", unit))
        .issuer_name(root_name)
        .public_key(issuing_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=300))
        .not_valid_after(now + timedelta(days=issuing_valid_days)),
        issuing_key,
        root_key,
        0,
    ).sign(root_key, hashes.SHA512(), rsa_padding=_pss(hashes.SHA512()))
    return Pki(root, root_key, issuing, issuing_key)


def make_issuing_ca(
    pki: Pki, *, not_before: datetime, not_after: datetime, slot: int = 300
) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """Another issuing CA under the same root, with the validity asked for."""
    key = rsa_key(3072, slot)
    certificate = _ca_extensions(
        x509.CertificateBuilder()
        .subject_name(_ca_name(f"Den Danske Stat OCES udstedende-CA {slot}", "Test - cti"))
        .issuer_name(pki.root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after),
        key,
        pki.root_key,
        0,
    ).sign(pki.root_key, hashes.SHA512(), rsa_padding=_pss(hashes.SHA512()))
    return certificate, key


def make_leaf(
    pki: Pki,
    *,
    cvr: str = "26457513",
    organisation: str = "Lokal IT ApS",
    common_name: str = "Fraværsoverblik (systemcertifikat)",
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    key: rsa.RSAPrivateKey | None = None,
    ca: bool = False,
    signature_hash: hashes.HashAlgorithm | None = None,
    pkcs1v15: bool = False,
    extended_key_usage: list[x509.ObjectIdentifier] | None = None,
    subject_alt_name: list[x509.GeneralName] | None = None,
    issuer: x509.Certificate | None = None,
    issuer_key=None,
) -> x509.Certificate:
    """An OCES3-style system certificate, valid 3 years from yesterday unless told otherwise."""
    now = datetime.now(UTC)
    not_before = not_before or now - timedelta(days=1)
    not_after = not_after or not_before + timedelta(days=3 * 365)
    key = key or rsa_key(3072, 1)
    issuer = issuer or pki.issuing
    issuer_key = issuer_key or pki.issuing_key
    subject = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "DK"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
    ]
    if cvr:
        subject.append(x509.NameAttribute(ORGANIZATION_IDENTIFIER, f"NTRDK-{cvr}"))
    subject += [
        x509.NameAttribute(NameOID.SERIAL_NUMBER, f"UI:DK-O:G:{uuid.uuid4()}"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ]
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(subject))
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, not ca, False, False, ca, ca, False, False),
            critical=True,
        )
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if extended_key_usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(extended_key_usage), critical=False)
    if subject_alt_name is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(subject_alt_name), critical=False)
    algorithm = signature_hash or hashes.SHA256()
    if pkcs1v15:
        return builder.sign(issuer_key, algorithm)
    return builder.sign(issuer_key, algorithm, rsa_padding=_pss(algorithm))


SHA256_WITH_RSA = bytes.fromhex("300d06092a864886f70d01010b0500")
SHA1_WITH_RSA = bytes.fromhex("300d06092a864886f70d0101050500")


def resign_with_sha1(certificate: x509.Certificate, issuer_key: rsa.RSAPrivateKey) -> x509.Certificate:
    """The same certificate signed with SHA-1, which `cryptography` no longer produces itself.

    Only for testing that such signatures are refused: the algorithm identifiers have the same
    length, so swapping them and the signature keeps every DER length intact.
    """
    der = certificate.public_bytes(serialization.Encoding.DER)
    tbs = certificate.tbs_certificate_bytes.replace(SHA256_WITH_RSA, SHA1_WITH_RSA)
    signature = issuer_key.sign(tbs, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303 - making the bad input
    assert len(signature) == len(certificate.signature)
    der = der.replace(certificate.tbs_certificate_bytes, tbs).replace(SHA256_WITH_RSA, SHA1_WITH_RSA)
    der = der[: -len(signature)] + signature
    return x509.load_der_x509_certificate(der)


def pem(*certificates: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)


def key_pem(key, *, password: bytes | None = None, traditional: bool = False) -> bytes:
    return _key_bytes(key, serialization.Encoding.PEM, password, traditional)


def key_der(key, *, password: bytes | None = None, traditional: bool = False) -> bytes:
    """PKCS#8 (encrypted with a password), or PKCS#1 / SEC1 with `traditional`, in binary DER."""
    return _key_bytes(key, serialization.Encoding.DER, password, traditional)


def _key_bytes(key, encoding, password: bytes | None, traditional: bool) -> bytes:
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    fmt = serialization.PrivateFormat.TraditionalOpenSSL if traditional else serialization.PrivateFormat.PKCS8
    return key.private_bytes(encoding, fmt, encryption)


@cache
def ec_key(slot: int = 0) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


class _Unseekable(io.RawIOBase):
    """A write-only stream, as when a zip is streamed: zipfile then writes data descriptors, as macOS does."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.buffer += data
        return len(data)


def zip_bytes(
    files: dict[str, bytes],
    *,
    compression: int = zipfile.ZIP_DEFLATED,
    comment: bytes = b"",
    streamed: bool = False,
) -> bytes:
    stream = _Unseekable() if streamed else io.BytesIO()
    with zipfile.ZipFile(stream, "w", compression=compression) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
        archive.comment = comment
    return bytes(stream.buffer) if streamed else stream.getvalue()
