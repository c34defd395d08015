"""Inspect an uploaded OCES3 certificate bundle: pure functions over bytes, no database, no Django.

`inspect_bundle(data, filename, trust=..., at=...)` runs the intake pipeline in a fixed order:
size cap -> search the whole upload for private keys -> sniff the type -> (zip: every byte of the
layout accounted for, central directory checks, then bounded in-memory decompression, each entry
searched for keys) -> PEM parsing -> classification -> chain verification. Every problem becomes
a `Finding` with a stable code, a severity and a sentence in Danish and English saying what is
wrong and what to do. The bundle is accepted when no finding is an error.

Nothing but certificates passes: any part of an upload that is not a well-formed certificate –
a zip comment, bytes around the archive, a leftover entry, a PEM block of another kind – is either
refused or (macOS's zip leftovers) skipped after being searched. A private key anywhere gives the
finding `private_key` and `contains_private_key`. What may be stored of an accepted upload is
`BundleReport.canonical_pem`, never the bytes sent.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import io
import re
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
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

# --- Limits -----------------------------------------------------------------------------------

MAX_UPLOAD_BYTES = 1024 * 1024  # the upload itself
MAX_ZIP_ENTRIES = 10
MAX_DECOMPRESSED_BYTES = 1024 * 1024  # all zip entries together, counted while decompressing
MAX_COMPRESSION_RATIO = 20  # PEM text compresses about 1.3:1; 20:1 is far beyond any real chain
_RATIO_FLOOR = 64 * 1024  # below this the ratio says nothing: a 6 kB .DS_Store of zeros packs 30:1
MAX_CERTIFICATES = 10
MAX_CHAIN_DEPTH = 6
EXPIRY_WARNING_DAYS = 30
MIN_RSA_BITS = 2048
ALLOWED_EC_CURVES = (ec.SECP256R1, ec.SECP384R1)
CERTIFICATE_EXTENSIONS = (".pem", ".crt", ".cer")
ARCHIVE_EXTENSIONS = (".zip", ".gz", ".tgz", ".tar", ".7z", ".rar", ".bz2", ".xz", ".jar", ".p7b", ".p7c")
# What macOS's Finder adds to a zip, recognised by name *and* content (see _is_macos_leftover).
_APPLEDOUBLE_MAGIC = b"\x00\x05\x16\x07"  # __MACOSX/._<name>: a file's extended attributes
_DS_STORE_MAGIC = b"\x00\x00\x00\x01Bud1"  # .DS_Store: a folder's view settings

ERROR, WARNING, INFO = "error", "warning", "info"

ORGANIZATION_IDENTIFIER = x509.ObjectIdentifier("2.5.4.97")
_CVR_PATTERN = re.compile(r"^NTRDK-(\d{8})$")
# The one thing an upload may hold: certificate blocks with exactly this armour and only base64 inside.
_CERT_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----[ \t\r]*\n([A-Za-z0-9+/=\s]*?)-----END CERTIFICATE-----")
# Any armour line, in any case and spacing: outside a certificate block, each one is refused.
_ARMOUR = re.compile(rb"-{3,}[ \t]*(BEGIN|END)[ \t]*([^\r\n-]*)", re.IGNORECASE)
_UNSAFE_NAME_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")


# --- The report -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    da: str
    en: str

    def message(self, language: str = "da") -> str:
        return self.en if language.startswith("en") else self.da


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
class BundleReport:
    filename: str
    size: int
    sha256: str  # of `canonical_pem` when accepted; empty when refused, so nothing of a refused upload is kept
    kind: str  # zip, pem, der, pkcs12, private_key, other, empty, too_large
    findings: tuple[Finding, ...]
    chain: tuple[ChainEntry, ...]
    contains_private_key: bool
    decompressed_bytes: int

    @property
    def valid(self) -> bool:
        return bool(self.chain) and not any(f.severity == ERROR for f in self.findings)

    @property
    def leaf(self) -> ChainEntry | None:
        return self.chain[0] if self.chain else None

    @property
    def canonical_pem(self) -> bytes:
        """What is kept of an accepted upload: its chain re-encoded as PEM, leaf first; never the bytes sent."""
        return "".join(entry.pem for entry in self.chain).encode("ascii") if self.valid else b""

    def codes(self, severity: str | None = None) -> list[str]:
        return [f.code for f in self.findings if severity is None or f.severity == severity]


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
                (roots if _is_self_signed(cert) else intermediates).append(cert)
        return cls(environment, tuple(roots), tuple(intermediates))


class _Rejected(Exception):
    """Stop the pipeline: the upload cannot be read further."""


@dataclass
class _Intake:
    findings: list[Finding] = field(default_factory=list)
    contains_private_key: bool = False
    decompressed_bytes: int = 0

    def add(self, code: str, severity: str, da: str, en: str) -> None:
        self.findings.append(Finding(code, severity, da, en))

    def stop(self, code: str, da: str, en: str) -> _Rejected:
        self.add(code, ERROR, da, en)
        return _Rejected(code)


# --- Entry point ------------------------------------------------------------------------------


def inspect_bundle(
    data: bytes, filename: str, *, trust: TrustAnchors, at: datetime, expected_cvr: str = ""
) -> BundleReport:
    """Check an uploaded certificate bundle against the trust anchors of one environment at time `at`."""
    intake = _Intake()
    kind = "other"
    chain: tuple[ChainEntry, ...] = ()
    try:
        kind, texts = _read_upload(data, filename, intake)
        certificates = _parse_pem_texts(texts, intake)
        if not any(f.severity == ERROR for f in intake.findings):
            chain = _check_chain(certificates, trust, at, expected_cvr, intake)
    except _Rejected:
        pass
    if intake.contains_private_key:
        chain = ()
        kind = "private_key"
    report = BundleReport(
        filename=filename,
        size=len(data),
        sha256="",
        kind=kind,
        findings=tuple(intake.findings),
        chain=chain,
        contains_private_key=intake.contains_private_key,
        decompressed_bytes=intake.decompressed_bytes,
    )
    if not report.valid:
        return report
    return replace(report, sha256=hashlib.sha256(report.canonical_pem).hexdigest())


# --- Reading the upload -----------------------------------------------------------------------


def _read_upload(data: bytes, filename: str, intake: _Intake) -> tuple[str, list[tuple[str, bytes]]]:
    """Return the sniffed kind and the PEM texts found, as (name, bytes) pairs."""
    if len(data) > MAX_UPLOAD_BYTES:
        # The caller may have read only the cap + 1 byte, so the message names the limit, not the size.
        raise intake.stop(
            "file_too_large",
            "Filen er større end grænsen på 1 MB. En certifikatkæde fylder normalt under 10 kB – upload kun de "
            "offentlige certifikater.",
            "The file is larger than the 1 MB limit. A certificate chain is normally under 10 kB – upload only the "
            "public certificates.",
        )
    if not data:
        raise intake.stop(
            "empty_file",
            "Filen er tom. Vælg filen med certifikatkæden igen.",
            "The file is empty. Choose the file with the certificate chain again.",
        )
    # First the whole upload as sent: this sees a key before, after or between a zip's entries, in its
    # comments and in stored (uncompressed) entries. Each unpacked entry is searched again in _read_zip.
    _refuse_key_material(filename, data, intake)
    kind = _sniff(data)
    if kind == "zip":
        return kind, _read_zip(data, intake)
    _check_single_file(data, filename, kind, intake)
    return kind, [(filename, data)]


_MAGIC = [
    (b"%PDF", "PDF"),
    (b"\x89PNG", "PNG-billede / PNG image"),
    (b"\xff\xd8\xff", "JPEG-billede / JPEG image"),
    (b"\xd0\xcf\x11\xe0", "Office-dokument / Office document"),
    (b"{\\rtf", "RTF-dokument / RTF document"),
    (b"\x1f\x8b", "gzip"),
    (b"7z\xbc\xaf", "7-Zip"),
    (b"Rar!", "RAR"),
]


def _sniff(data: bytes) -> str:
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return "zip"
    for magic, _name in _MAGIC:
        if data.startswith(magic):
            return "other"
    text = _as_text(data)
    if text is not None and _ARMOUR.search(text):
        return "pem"
    if data[:1] == b"\x30":
        return _sniff_der(data)
    return "other"


def _sniff_der(data: bytes) -> str:
    try:
        x509.load_der_x509_certificate(data)
        return "der"
    except ValueError:
        pass
    if _looks_like_pkcs12(data):
        return "pkcs12"
    try:
        serialization.load_der_private_key(data, password=None)
        return "private_key"
    except TypeError:
        return "private_key"  # encrypted: a password was needed, so it is a key
    except (ValueError, UnsupportedAlgorithm):
        return "other"


def _looks_like_pkcs12(data: bytes) -> bool:
    """PFX ::= SEQUENCE { version INTEGER (3), ... } (RFC 7292)."""
    if len(data) < 8 or data[0] != 0x30:
        return False
    length_byte = data[1]
    offset = 2 + (length_byte & 0x7F if length_byte & 0x80 else 0)
    return data[offset : offset + 3] == b"\x02\x01\x03"


def _as_text(data: bytes) -> bytes | None:
    """The bytes without a UTF-8 BOM if they are plain text, else None."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return data


def _check_single_file(data: bytes, name: str, kind: str, intake: _Intake) -> None:
    """Stop with a specific message for anything that is not PEM text."""
    if kind == "pem":
        return
    if kind == "der":
        raise intake.stop(
            "der_certificate",
            f"“{name}” er et enkelt certifikat i binært DER-format, ikke PEM. Lav det om til PEM med "
            f"`openssl x509 -inform DER -in {_shell_name(name)} -out certifikat.pem`, og upload hele kæden "
            "(systemets certifikat og udstederens) som .pem – gerne samlet i en .zip-fil.",
            f"“{name}” is a single certificate in binary DER format, not PEM. Convert it with "
            f"`openssl x509 -inform DER -in {_shell_name(name)} -out certificate.pem` and upload the whole chain "
            "(the system's certificate and its issuer's) as .pem – preferably together in a .zip file.",
        )
    if kind == "pkcs12":
        # No key was seen in it (_refuse_key_material comes first), but one may sit in its encrypted part.
        raise intake.stop(
            "pkcs12_file",
            f"“{name}” er en PKCS#12-fil (.p12/.pfx). Den indeholder normalt systemets private nøgle, som aldrig må "
            "deles – heller ikke med KMD – og filen er ikke gemt. Lav en fil med kun de offentlige certifikater: "
            f"`openssl pkcs12 -in {_shell_name(name)} -nokeys -out kaede.pem`. Har filen været sendt til andre, "
            "bør certifikatet spærres og udskiftes.",
            f"“{name}” is a PKCS#12 file (.p12/.pfx). It normally holds the system's private key, which must never be "
            "shared – not even with KMD – and the file was not stored. Make a file with only the public certificates: "
            f"`openssl pkcs12 -in {_shell_name(name)} -nokeys -out chain.pem`. If the file was sent to anyone, the "
            "certificate should be revoked and replaced.",
        )
    if kind == "private_key":
        _private_key_found(name, intake)
    described = next((label for magic, label in _MAGIC if data.startswith(magic)), None)
    if described:
        raise intake.stop(
            "wrong_file_type",
            f"“{name}” er en {described.split(' / ')[0]}-fil, ikke et certifikat. Upload den offentlige del af systemets "
            "OCES3-certifikat med hele kæden som .pem – gerne i en .zip-fil.",
            f"“{name}” is a {described.split(' / ')[-1]} file, not a certificate. Upload the public part of the system's "
            "OCES3 certificate with its whole chain as .pem – preferably in a .zip file.",
        )
    raise intake.stop(
        "unknown_format",
        f"“{name}” kan ikke læses som certifikater. Upload den offentlige del af systemets OCES3-certifikat med hele "
        "kæden som .pem-fil (tekst, der begynder med “-----BEGIN CERTIFICATE-----”) – gerne i en .zip-fil.",
        f"“{name}” cannot be read as certificates. Upload the public part of the system's OCES3 certificate with its "
        "whole chain as a .pem file (text starting with “-----BEGIN CERTIFICATE-----”) – preferably in a .zip file.",
    )


def _private_key_found(name: str, intake: _Intake, *, pkcs12: bool = False) -> None:
    intake.contains_private_key = True
    shown = _UNSAFE_NAME_CHARS.sub("?", name)
    if pkcs12:
        what_da, what_en = " (en PKCS#12-fil, .p12/.pfx)", " (a PKCS#12 file, .p12/.pfx)"
        next_da = (
            "Lav derefter en fil med kun de offentlige certifikater, fx med "
            f"`openssl pkcs12 -in {_shell_name(name)} -nokeys -out kaede.pem`, og upload den."
        )
        next_en = (
            "Then make a file with only the public certificates, e.g. with "
            f"`openssl pkcs12 -in {_shell_name(name)} -nokeys -out chain.pem`, and upload that."
        )
    else:
        what_da = what_en = ""
        next_da = "Upload derefter kun de offentlige certifikater som .pem – gerne i en .zip-fil."
        next_en = "Then upload only the public certificates as .pem – preferably in a .zip file."
    raise intake.stop(
        "private_key",
        f"“{shown}”{what_da} indeholder en privat nøgle. En privat nøgle må aldrig forlade leverandøren og må "
        "aldrig deles – heller ikke med KMD. Uploaden er afvist, og intet af den er gemt. Da nøglen nu har været "
        "sendt, skal leverandøren få certifikatet spærret og genudstedt (udskiftes med et nyt). " + next_da,
        f"“{shown}”{what_en} contains a private key. A private key must never leave the vendor and must never be "
        "shared – not even with KMD. The upload was refused and nothing of it was stored. Because the key has now "
        "been sent, the vendor must have the certificate revoked and reissued (replaced with a new one). " + next_en,
    )


# --- Private keys -----------------------------------------------------------------------------
#
# A private key must never be accepted or stored, and the user must be told plainly that it was a
# key. So every part of an upload that is not a well-formed certificate is searched for one, in
# each form a key is written in: PEM armour in any case and spacing, also as UTF-16 or UTF-32 text
# (with or without a byte-order mark), base64 without armour, DER (PKCS#8 plain and encrypted,
# PKCS#1, SEC1, PKCS#12 key bags), OpenSSH and PuTTY files, and `openssl ... -text` dumps. A raw
# key of a few dozen random bytes cannot be told from any other bytes; that is one more reason why
# nothing but the re-encoded certificates is ever stored.

_KEY_TEXT = re.compile(
    rb"-{3,}[ \t]*BEGIN[ \t\w#]*?PRIVATE[ \t]*KEY|PuTTY-User-Key-File|\bPrivate-Key:[ \t]*\(|\bprivateExponent:",
    re.IGNORECASE,
)
_BASE64_LINES = re.compile(rb"(?:^[ \t]*[A-Za-z0-9+/]+=*[ \t]*\r?$\n?)+", re.MULTILINE)
_MIN_BASE64_KEY = 60  # the smallest key (Ed25519 in PKCS#8) is 48 bytes, 64 characters of base64
_DER_LENGTH = rb"(?:[\x00-\x7f]|\x81[\x80-\xff]|\x82[\x01-\xff][\x00-\xff]|\x83[\x01-\xff][\x00-\xff]{2})"
# Where a key structure may start: SEQUENCE { INTEGER 0 or 1, ... } or SEQUENCE { SEQUENCE { OID, ... }, ... }.
# A lookahead, so that overlapping candidates are all tried.
_DER_KEY_START = re.compile(
    rb"(?=\x30" + _DER_LENGTH + rb"(?:\x02\x01[\x00\x01]|\x30" + _DER_LENGTH + rb"\x06))", re.DOTALL
)
_PASSWORD_ENCRYPTION_OIDS = (
    bytes.fromhex("2a864886f70d0105"),  # PKCS#5: PBES1 and PBES2
    bytes.fromhex("2a864886f70d010c01"),  # PKCS#12 password-based encryption
)
_KEY_MARKS = (
    bytes.fromhex("2a864886f70d010c0a0101"),  # PKCS#12 keyBag
    bytes.fromhex("2a864886f70d010c0a0102"),  # PKCS#12 pkcs8ShroudedKeyBag
    b"openssh-key-v1\x00",  # the binary inside "-----BEGIN OPENSSH PRIVATE KEY-----"
)


def _refuse_key_material(name: str, blob: bytes, intake: _Intake) -> None:
    found = _key_material(blob)
    if found is not None:
        _private_key_found(name, intake, pkcs12=found == "pkcs12")


def _key_material(blob: bytes) -> str | None:
    """Does this part of an upload hold a private key? Returns "pkcs12", "key" or None."""
    try:
        x509.load_der_x509_certificate(blob)
        return None  # one DER certificate, exactly; its bytes are not searched
    except ValueError:
        pass
    rest = _CERT_BLOCK.sub(b"\n", blob)  # only what is not a well-formed certificate block is searched
    # UTF-16 and UTF-32 text of ASCII is that text with NUL bytes in between, whatever the byte order.
    for text in (rest, _CERT_BLOCK.sub(b"\n", rest.replace(b"\0", b""))):
        if _KEY_TEXT.search(text):
            return "key"
        for run in _BASE64_LINES.finditer(text):
            if any(_der_key_like(decoded) for decoded in _base64_decodings(run.group(0))):
                return "key"
    if _der_key_like(rest):
        return "pkcs12" if _looks_like_pkcs12(blob) else "key"
    return None


def _base64_decodings(run: bytes) -> list[bytes]:
    """Base64 lines decoded from each of the four alignments, so a key is found whatever precedes it."""
    decodings = []
    for piece in re.split(rb"=+", re.sub(rb"\s+", b"", run)):
        for start in range(4):
            usable = piece[start:]
            usable = usable[: len(usable) - len(usable) % 4]
            if len(usable) >= _MIN_BASE64_KEY:
                with contextlib.suppress(binascii.Error):
                    decodings.append(base64.b64decode(usable, validate=True))
    return decodings


def _der_length(blob: bytes, at: int) -> tuple[int, int] | None:
    """Where the content of the DER element whose tag is at `at` starts, and its length."""
    if at + 2 > len(blob):
        return None
    first = blob[at + 1]
    if first < 0x80:
        return at + 2, first
    count = first & 0x7F
    if not 1 <= count <= 3 or at + 2 + count > len(blob):
        return None
    return at + 2 + count, int.from_bytes(blob[at + 2 : at + 2 + count], "big")


def _der_key_like(blob: bytes) -> bool:
    """Is there a private key structure anywhere in these bytes? Checked by shape, so a damaged key counts too."""
    if any(mark in blob for mark in _KEY_MARKS):
        return True
    for candidate in _DER_KEY_START.finditer(blob):
        start, _length = _der_length(blob, candidate.start())
        if blob[start] == 0x02:
            version, after = blob[start + 2], start + 3
            tag = blob[after : after + 1]
            inner = _der_length(blob, after)
            if inner is None:
                continue
            inner_end = inner[0] + inner[1]
            following = blob[inner_end : inner_end + 1]
            if tag == b"\x30" and blob[inner[0] : inner[0] + 1] == b"\x06" and following == b"\x04":
                return True  # PKCS#8: version, AlgorithmIdentifier, the key as an OCTET STRING
            if tag == b"\x02" and version == 0 and inner[1] >= 64 and following == b"\x02":
                return True  # PKCS#1 (RSA) or OpenSSL's DSA: version 0, then the modulus and more INTEGERs
            if tag == b"\x04" and version == 1 and 16 <= inner[1] <= 66:
                return True  # SEC1 (EC): version 1, then the private scalar
        else:
            algorithm = _der_length(blob, start)
            oid = _der_length(blob, algorithm[0]) if algorithm else None
            if algorithm is None or oid is None:
                continue
            identifier = blob[oid[0] : oid[0] + oid[1]]
            following = blob[algorithm[0] + algorithm[1] : algorithm[0] + algorithm[1] + 1]
            if identifier.startswith(_PASSWORD_ENCRYPTION_OIDS) and following == b"\x04":
                return True  # encrypted PKCS#8: password-based AlgorithmIdentifier, then the encrypted key
    return False


def _shell_name(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    return base if re.fullmatch(r"[A-Za-z0-9._-]+", base) else "fil"


# --- Zip --------------------------------------------------------------------------------------


def _read_zip(data: bytes, intake: _Intake) -> list[tuple[str, bytes]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()  # the central directory only; nothing is decompressed yet
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, NotImplementedError) as error:
        raise intake.stop(
            "zip_corrupt",
            "Zip-filen er beskadiget eller ufuldstændig og kan ikke åbnes. Pak certifikaterne igen, og upload den nye fil.",
            f"The zip file is damaged or incomplete and cannot be opened ({error}). Zip the certificates again and "
            "upload the new file.",
        ) from None
    if len(entries) > MAX_ZIP_ENTRIES:
        raise intake.stop(
            "zip_too_many_entries",
            f"Zip-filen indeholder {len(entries)} filer; højst {MAX_ZIP_ENTRIES} er tilladt. Læg kun "
            "certifikatkæden i zip-filen.",
            f"The zip file holds {len(entries)} files; at most {MAX_ZIP_ENTRIES} are allowed. Put only the "
            "certificate chain in it.",
        )
    starts = _check_zip_layout(data, archive, entries, intake)
    readable = _check_zip_directory(entries, intake)
    if starts is None:
        raise _Rejected("zip")  # entries overlap or point outside the archive: nothing is unpacked
    unpacked = [(info, usable, _decompress(data, starts[info], info, intake)) for info, usable in readable]
    # Every entry that can be unpacked is searched for a key before anything else is said about it.
    for info, _usable, content in unpacked:
        _refuse_key_material(info.filename, content, intake)
    texts = []
    for info, usable, content in unpacked:
        if usable and _is_certificate_entry(info, content, intake):
            texts.append((info.filename, content))
    if any(f.severity == ERROR for f in intake.findings):
        raise _Rejected("zip")
    if not texts:
        raise intake.stop(
            "zip_no_certificate_files",
            "Zip-filen indeholder ingen .pem-, .crt- eller .cer-filer. Læg certifikatkæden i zip-filen som .pem.",
            "The zip file contains no .pem, .crt or .cer files. Put the certificate chain in it as .pem.",
        )
    return texts


def _is_certificate_entry(info: zipfile.ZipInfo, content: bytes, intake: _Intake) -> bool:
    """Is this unpacked entry a certificate file? If not, it is skipped or refused with a finding."""
    name = info.filename
    shown = _UNSAFE_NAME_CHARS.sub("?", name)
    lowered = name.lower()
    if info.is_dir() and not content:
        return False  # an empty folder entry holds nothing
    # Finder's leftovers (a file's extended attributes, a folder's view settings) are in most zips made on a
    # Mac, so they are skipped – but only when their content is what their name says, and only after they
    # were searched for a key like every other entry. Nothing of them is stored.
    if _is_macos_leftover(name, content):
        intake.add(
            "zip_entry_ignored",
            INFO,
            f"“{shown}” er en systemfil fra macOS og blev sprunget over.",
            f"“{shown}” is a macOS system file and was skipped.",
        )
        return False
    if lowered.startswith("__macosx/") or lowered.rsplit("/", 1)[-1] == ".ds_store":
        intake.add(
            "zip_unexpected_file",
            ERROR,
            f"“{shown}” er navngivet som en systemfil fra macOS, men er ikke en. Fjern filen, og pak igen.",
            f"“{shown}” is named like a macOS system file but is not one. Remove it and zip again.",
        )
        return False
    nested_magic = any(content.startswith(m) for m, label in _MAGIC if label in ("gzip", "7-Zip", "RAR"))
    if lowered.endswith(ARCHIVE_EXTENSIONS) or _sniff(content) == "zip" or nested_magic:
        intake.add(
            "zip_nested_archive",
            ERROR,
            f"“{shown}” i zip-filen er selv et arkiv. Læg certifikaterne direkte i én zip-fil.",
            f"“{shown}” inside the zip file is itself an archive. Put the certificates directly in one zip file.",
        )
        return False
    if info.is_dir() or not lowered.endswith(CERTIFICATE_EXTENSIONS):
        intake.add(
            "zip_unexpected_file",
            ERROR,
            f"“{shown}” hører ikke hjemme i zip-filen: kun .pem-, .crt- og .cer-filer med certifikater er tilladt. "
            "Fjern filen, og pak igen.",
            f"“{shown}” does not belong in the zip file: only .pem, .crt and .cer files with certificates are "
            "allowed. Remove it and zip again.",
        )
        return False
    _check_single_file(content, name, _sniff(content), intake)
    return True


def _is_macos_leftover(name: str, content: bytes) -> bool:
    base = name.rsplit("/", 1)[-1]
    if name.startswith("__MACOSX/") and base.startswith("._"):
        return content.startswith(_APPLEDOUBLE_MAGIC)
    return base == ".DS_Store" and content.startswith(_DS_STORE_MAGIC)


def _check_zip_directory(entries: list[zipfile.ZipInfo], intake: _Intake) -> list[tuple[zipfile.ZipInfo, bool]]:
    """Check every entry of the central directory before anything is unpacked.

    Returns the entries that can be unpacked safely in memory – each is then searched for a key –
    with whether it may still be a certificate file (False once it has a finding of its own).
    """
    readable: list[tuple[zipfile.ZipInfo, bool]] = []
    seen_names: set[str] = set()
    declared_total = 0
    for info in entries:
        name = info.filename
        shown = _UNSAFE_NAME_CHARS.sub("?", name)
        usable = True
        if name in seen_names:
            intake.add(
                "zip_duplicate_name",
                ERROR,
                f"Zip-filen indeholder “{shown}” mere end én gang. Pak certifikaterne igen.",
                f"The zip file contains “{shown}” more than once. Zip the certificates again.",
            )
            usable = False
        elif _unsafe_path(name):
            intake.add(
                "zip_unsafe_path",
                ERROR,
                f"Zip-filen indeholder et ugyldigt filnavn: “{shown}”. Filnavne må ikke være absolutte stier, gå op med "
                "“..”, eller indeholde omvendt skråstreg eller kontroltegn. Pak certifikaterne igen uden mapper.",
                f"The zip file contains an invalid file name: “{shown}”. Names may not be absolute paths, go up with "
                "“..”, or contain backslashes or control characters. Zip the certificates again without folders.",
            )
            usable = False
        elif stat.S_ISLNK(info.external_attr >> 16):
            intake.add(
                "zip_symlink",
                ERROR,
                f"“{shown}” i zip-filen er en symbolsk henvisning, ikke en fil. Læg selve certifikatfilerne i zip-filen.",
                f"“{shown}” in the zip file is a symbolic link, not a file. Put the certificate files themselves in it.",
            )
            usable = False
        seen_names.add(name)
        if info.flag_bits & 0x1:
            intake.add(
                "zip_encrypted",
                ERROR,
                f"“{shown}” i zip-filen er krypteret med adgangskode. Certifikater er offentlige – pak dem uden "
                "adgangskode.",
                f"“{shown}” in the zip file is password-protected. Certificates are public – zip them without a "
                "password.",
            )
            continue
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            intake.add(
                "zip_unsupported_compression",
                ERROR,
                f"“{shown}” i zip-filen er pakket med en metode, vi ikke læser. Brug almindelig zip (deflate).",
                f"“{shown}” in the zip file uses a compression method we do not read. Use ordinary zip (deflate).",
            )
            continue
        declared_total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if (
            info.file_size > MAX_DECOMPRESSED_BYTES
            or declared_total > MAX_DECOMPRESSED_BYTES
            or (ratio > MAX_COMPRESSION_RATIO and info.file_size > _RATIO_FLOOR)
        ):
            intake.add(
                "zip_bomb",
                ERROR,
                f"“{shown}” i zip-filen ville fylde {info.file_size:,} bytes udpakket (pakket {ratio:.0f} gange). "
                "Det er ikke en certifikatkæde; filen er afvist uden at blive pakket ud.".replace(",", "."),
                f"“{shown}” in the zip file would unpack to {info.file_size:,} bytes (compressed {ratio:.0f} times). "
                "That is not a certificate chain; the file was rejected without unpacking it.",
            )
            continue
        readable.append((info, usable))
    return readable


def _unsafe_path(name: str) -> bool:
    if not name or _UNSAFE_NAME_CHARS.search(name):
        return True
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return True
    return any(part == ".." for part in name.split("/"))


_LOCAL_HEADER = 30
_CENTRAL_HEADER = 46
_END_RECORD = 22


def _check_zip_layout(
    data: bytes, archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo], intake: _Intake
) -> dict[zipfile.ZipInfo, int] | None:
    """Account for every byte of the archive; return where each entry's packed data starts.

    A zip tool writes the entries back to back from the first byte, then the central directory,
    then the 22-byte end record as the very last bytes. Bytes before, between or after those, and
    comments on the archive or on an entry, are places a reader never looks at – a key hidden there
    would pass unseen – so they are refused. Returns None when entries overlap or point outside the
    archive: then nothing may be unpacked.
    """
    spans = []
    starts: dict[zipfile.ZipInfo, int] = {}
    for info in entries:
        offset = info.header_offset
        header = data[offset : offset + _LOCAL_HEADER] if offset >= 0 else b""
        if len(header) < _LOCAL_HEADER or header[:4] != b"PK\x03\x04":
            return _zip_points_outside(intake)
        name_length, extra_length = struct.unpack_from("<HH", header, 26)
        start = offset + _LOCAL_HEADER + name_length + extra_length
        end = start + info.compress_size
        if info.flag_bits & 0x8:  # CRC and sizes follow the packed data, in a data descriptor (macOS does this)
            descriptor = _data_descriptor_length(data, end, info)
            if descriptor is None:
                return _zip_points_outside(intake)
            end += descriptor
        if end > archive.start_dir:
            return _zip_points_outside(intake)
        spans.append((offset, end, info))
        starts[info] = start
    spans.sort(key=lambda span: (span[0], span[1]))
    for (_s1, end1, first), (start2, _e2, second) in zip(spans, spans[1:], strict=False):
        if start2 < end1:
            name1, name2 = _UNSAFE_NAME_CHARS.sub("?", first.filename), _UNSAFE_NAME_CHARS.sub("?", second.filename)
            intake.add(
                "zip_overlapping_entries",
                ERROR,
                f"Filerne “{name1}” og “{name2}” i zip-filen deler de samme data. Det gør almindelige zip-programmer "
                "aldrig; filen er afvist. Pak certifikaterne igen.",
                f"The entries “{name1}” and “{name2}” in the zip file share the same data. Ordinary zip tools never "
                "do that; the file was rejected. Zip the certificates again.",
            )
            return None
    for offset, _end, info in spans:
        encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
        name_length = struct.unpack_from("<H", data, offset + 26)[0]
        if data[offset + _LOCAL_HEADER : offset + _LOCAL_HEADER + name_length] != info.orig_filename.encode(encoding):
            return _zip_points_outside(intake)  # the entry's own header names another file than the directory

    position, outside = 0, False
    for offset, end, _info in spans:
        outside |= offset != position
        position = end
    outside |= position != archive.start_dir
    entry_comments = False
    position = archive.start_dir
    for _info in entries:
        record = data[position : position + _CENTRAL_HEADER]
        if len(record) < _CENTRAL_HEADER or record[:4] != b"PK\x01\x02":
            return _zip_points_outside(intake)
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", record, 28)
        entry_comments |= comment_length > 0
        position += _CENTRAL_HEADER + name_length + extra_length + comment_length
    # The end record must follow the directory at once and end the file (its comment, if any, refused below).
    outside |= data[position : position + 4] != b"PK\x05\x06"
    outside |= position + _END_RECORD + len(archive.comment) != len(data)
    if archive.comment or entry_comments:
        intake.add(
            "zip_comment",
            ERROR,
            "Zip-filen har en kommentar (på selve arkivet eller på en fil i det). En kommentar kan bære andet end "
            "certifikater og bliver ikke kontrolleret, så den er ikke tilladt. Pak certifikaterne igen uden kommentar.",
            "The zip file has a comment (on the archive or on a file in it). A comment can carry other things than "
            "certificates and is not checked, so it is not allowed. Zip the certificates again without a comment.",
        )
    if outside:
        intake.add(
            "zip_extra_data",
            ERROR,
            "Zip-filen indeholder data uden for de pakkede filer (før, mellem eller efter dem). Det skriver "
            "almindelige zip-programmer ikke, og den slags data bliver aldrig kontrolleret, så filen er afvist. Pak "
            "certifikaterne igen i en ny zip-fil.",
            "The zip file contains data outside its packed files (before, between or after them). Ordinary zip "
            "tools do not write that, and such data is never checked, so the file was refused. Zip the certificates "
            "again in a new zip file.",
        )
    return starts


def _data_descriptor_length(data: bytes, at: int, info: zipfile.ZipInfo) -> int | None:
    """The length of the data descriptor at `at`, if it says exactly what the central directory says."""
    for sizes in ("<LLL", "<LQQ"):
        values = struct.pack(sizes, info.CRC, info.compress_size, info.file_size)
        for descriptor in (b"PK\x07\x08" + values, values):
            if data.startswith(descriptor, at):
                return len(descriptor)
    return None


def _zip_points_outside(intake: _Intake) -> None:
    intake.add(
        "zip_corrupt",
        ERROR,
        "Zip-filen er beskadiget (en fil peger uden for arkivet). Pak certifikaterne igen.",
        "The zip file is damaged (an entry points outside the archive). Zip the certificates again.",
    )
    return None


def _decompress(data: bytes, start: int, info: zipfile.ZipInfo, intake: _Intake) -> bytes:
    """Unpack one entry in memory, counting real bytes against the caps whatever the header says.

    The packed bytes must unpack to exactly the size and CRC the directory gives, and the deflate
    stream must end exactly where the packed bytes end: nothing may ride along unread.
    """
    shown = _UNSAFE_NAME_CHARS.sub("?", info.filename)
    packed = data[start : start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        _count_unpacked(len(packed), intake)
        content = packed
    else:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        chunks, produced, pending = [], 0, packed
        try:
            while pending and not inflater.eof:
                room = info.file_size - produced
                chunk = inflater.decompress(pending, room + 1)  # one byte more than declared shows a lie
                pending = inflater.unconsumed_tail
                if len(chunk) > room:
                    raise _damaged(shown, intake)
                _count_unpacked(len(chunk), intake)
                chunks.append(chunk)
                produced += len(chunk)
        except zlib.error:
            raise _damaged(shown, intake) from None
        content = b"".join(chunks)
        if not inflater.eof:
            raise _damaged(shown, intake)
        if pending or inflater.unused_data:
            raise intake.stop(
                "zip_extra_data",
                f"“{shown}” i zip-filen har data efter sit pakkede indhold. Det skriver almindelige zip-programmer "
                "ikke; filen er afvist. Pak certifikaterne igen i en ny zip-fil.",
                f"“{shown}” in the zip file has data after its packed content. Ordinary zip tools do not write that; "
                "the file was refused. Zip the certificates again in a new zip file.",
            )
    if len(content) != info.file_size or zlib.crc32(content) != info.CRC:
        raise _damaged(shown, intake)
    return content


def _damaged(shown: str, intake: _Intake) -> _Rejected:
    return intake.stop(
        "zip_corrupt",
        f"“{shown}” i zip-filen er beskadiget og kan ikke pakkes ud. Pak certifikaterne igen.",
        f"“{shown}” in the zip file is damaged and cannot be unpacked. Zip the certificates again.",
    )


def _count_unpacked(size: int, intake: _Intake) -> None:
    intake.decompressed_bytes += size
    if intake.decompressed_bytes > MAX_DECOMPRESSED_BYTES:
        raise intake.stop(
            "zip_bomb",
            "Zip-filen pakker ud til mere end grænsen på 1 MB og er afvist. En certifikatkæde fylder normalt under "
            "10 kB.",
            "The zip file unpacks to more than the 1 MB limit and was rejected. A certificate chain is normally "
            "under 10 kB.",
        )


# --- PEM --------------------------------------------------------------------------------------


def _parse_pem_texts(texts: list[tuple[str, bytes]], intake: _Intake) -> list[x509.Certificate]:
    certificates: list[x509.Certificate] = []
    fingerprints: set[bytes] = set()
    for name, raw in texts:
        text = _as_text(raw)
        if text is None:
            raise intake.stop(
                "unknown_format",
                f"“{name}” er ikke en tekstfil med certifikater. Upload kæden som .pem.",
                f"“{name}” is not a text file with certificates. Upload the chain as .pem.",
            )
        text = text.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        # Key material was searched for before (_refuse_key_material). Here every armour line outside a
        # well-formed certificate block is refused, whatever its case or spacing: it is not a certificate.
        blocks = list(_CERT_BLOCK.finditer(text))
        begins = [m.start() for m in _ARMOUR.finditer(text) if m.group(1).upper() == b"BEGIN"]
        for marker in _ARMOUR.finditer(text):
            if any(block.start() <= marker.start() < block.end() for block in blocks):
                continue
            number = max(1, sum(1 for begin in begins if begin <= marker.start()))
            label = " ".join(marker.group(2).decode("ascii", "replace").split()).upper()
            if marker.group(1).upper() == b"BEGIN" and label != "CERTIFICATE":
                raise _not_a_certificate(name, label, number, intake)
            raise _damaged_certificate(name, number, intake)
        if not blocks:
            raise intake.stop(
                "no_certificates",
                f"“{name}” indeholder ingen certifikater (“-----BEGIN CERTIFICATE-----”). Upload den offentlige del "
                "af systemets OCES3-certifikat med hele kæden.",
                f"“{name}” contains no certificates (“-----BEGIN CERTIFICATE-----”). Upload the public part of the "
                "system's OCES3 certificate with its whole chain.",
            )
        for number, block in enumerate(blocks, start=1):
            try:
                der = base64.b64decode(re.sub(rb"\s+", b"", block.group(1)), validate=True)
            except binascii.Error:
                raise _damaged_certificate(name, number, intake) from None
            try:
                certificate = x509.load_der_x509_certificate(der)
            except ValueError:
                _refuse_key_material(name, der, intake)  # a key labelled as a certificate is still a key
                raise _damaged_certificate(name, number, intake) from None
            if certificate.public_bytes(serialization.Encoding.DER) != der:
                raise _damaged_certificate(name, number, intake)  # bytes in the block that are not the certificate
            fingerprint = certificate.fingerprint(hashes.SHA256())
            if fingerprint in fingerprints:
                intake.add(
                    "duplicate_certificate",
                    INFO,
                    f"“{_cn(certificate.subject)}” var med mere end én gang; dubletten er sprunget over.",
                    f"“{_cn(certificate.subject)}” was included more than once; the duplicate was skipped.",
                )
                continue
            fingerprints.add(fingerprint)
            certificates.append(certificate)
    if len(certificates) > MAX_CERTIFICATES:
        raise intake.stop(
            "too_many_certificates",
            f"Uploaden indeholder {len(certificates)} certifikater; en kæde har højst {MAX_CERTIFICATES}. Upload "
            "kun systemets certifikat og dets udstedere.",
            f"The upload contains {len(certificates)} certificates; a chain has at most {MAX_CERTIFICATES}. Upload "
            "only the system's certificate and its issuers.",
        )
    return certificates


_NOT_CERTIFICATES = {
    "CERTIFICATE REQUEST": (
        "en certifikatanmodning (CSR), som man sender til udstederen for at få certifikatet",
        "a certificate signing request (CSR), which is sent to the issuer to obtain the certificate",
    ),
    "X509 CRL": ("en spærreliste (CRL)", "a certificate revocation list (CRL)"),
    "PUBLIC KEY": ("en offentlig nøgle uden sit certifikat", "a bare public key without its certificate"),
    "PKCS7": (
        "en PKCS#7-samling; hent certifikaterne ud med `openssl pkcs7 -print_certs -in fil.p7b -out kaede.pem`",
        "a PKCS#7 bundle; extract the certificates with `openssl pkcs7 -print_certs -in file.p7b -out chain.pem`",
    ),
}
_NOT_CERTIFICATES["NEW CERTIFICATE REQUEST"] = _NOT_CERTIFICATES["CERTIFICATE REQUEST"]
_NOT_CERTIFICATES["RSA PUBLIC KEY"] = _NOT_CERTIFICATES["PUBLIC KEY"]


def _not_a_certificate(name: str, label: str, number: int, intake: _Intake) -> _Rejected:
    label = re.sub(r"[^A-Z0-9 #]", "?", label)[:40]
    what_da, what_en = _NOT_CERTIFICATES.get(label, ("en anden slags blok", "a block of another kind"))
    return intake.stop(
        "pem_unexpected_block",
        f"“{name}” indeholder en “{label}”-blok (nr. {number}): {what_da}, ikke et certifikat. Kun certifikater "
        "(“-----BEGIN CERTIFICATE-----”) er tilladt; fjern blokken, og upload igen.",
        f"“{name}” contains a “{label}” block (no. {number}): {what_en}, not a certificate. Only certificates "
        "(“-----BEGIN CERTIFICATE-----”) are allowed; remove the block and upload again.",
    )


def _damaged_certificate(name: str, number: int, intake: _Intake) -> _Rejected:
    return intake.stop(
        "pem_invalid_certificate",
        f"Certifikat nr. {number} i “{name}” er beskadiget og kan ikke læses. Hent certifikatet igen fra kilden, og "
        "upload det uændret.",
        f"Certificate no. {number} in “{name}” is damaged and cannot be read. Fetch it again from its source and "
        "upload it unchanged.",
    )


# --- Chain ------------------------------------------------------------------------------------


def _key_identifier(cert: x509.Certificate, kind) -> bytes | None:
    try:
        value = cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None
    return value.key_identifier if kind is x509.AuthorityKeyIdentifier else value.digest


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
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


def _is_self_signed(cert: x509.Certificate) -> bool:
    return _issued_by(cert, cert)


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _cn(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else name.rfc4514_string()


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


def _check_chain(
    certificates: list[x509.Certificate], trust: TrustAnchors, at: datetime, expected_cvr: str, intake: _Intake
) -> tuple[ChainEntry, ...]:
    env_da = "produktionsmiljøet" if trust.environment == "production" else "testmiljøet"
    env_en = f"the {trust.environment} environment"
    if not trust.roots:
        raise intake.stop(
            "no_trust_anchors",
            f"Certifikater til {env_da} kan ikke kontrolleres, fordi der ikke er opsat rodcertifikater for {env_da}. "
            "Kontakt KMD Opus Personale support; din fil er ikke fejlbehæftet.",
            f"Certificates for {env_en} cannot be checked because no root certificates are configured for it. "
            "Contact KMD Opus Personale support; your file is not at fault.",
        )
    issuers_in_upload = {
        id(c) for c in certificates for other in certificates if other is not c and _issued_by(other, c)
    }
    bottoms = [c for c in certificates if id(c) not in issuers_in_upload and not _is_self_signed(c)]
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
            f"Systemets eget certifikat mangler: “{_cn(candidate.subject)}” er et CA-certifikat (en udsteder), ikke "
            "et system- eller organisationscertifikat. Tilføj systemets OCES3-certifikat til uploaden.",
            f"The system's own certificate is missing: “{_cn(candidate.subject)}” is a CA (issuer) certificate, not "
            "a system or organisation certificate. Add the system's OCES3 certificate to the upload.",
        )
    leaf = end_entities[0]

    # Build the path through the upload ourselves, to say precisely what is missing or extra.
    path = [leaf]
    ends_at_anchor = False
    while len(path) <= MAX_CHAIN_DEPTH:
        current = path[-1]
        if _is_self_signed(current):
            if not any(current == root for root in trust.roots):
                raise intake.stop(
                    "root_not_trusted",
                    f"Kæden ender i “{_cn(current.subject)}”, som ikke er et godkendt rodcertifikat for {env_da}. "
                    "Tjek, at certifikatet er udstedt til det rigtige miljø (test eller produktion).",
                    f"The chain ends at “{_cn(current.subject)}”, which is not a trusted root for {env_en}. Check "
                    "that the certificate was issued for the right environment (test or production).",
                )
            ends_at_anchor = True
            break
        issuer = next((c for c in certificates if c is not current and _issued_by(current, c)), None)
        if issuer is not None:
            path.append(issuer)
            continue
        if any(_issued_by(current, root) for root in trust.roots):
            ends_at_anchor = True
            break
        known = next((c for c in trust.known_intermediates if current.issuer == c.subject), None)
        if current is leaf or known is not None:
            missing = _cn(current.issuer)
            raise intake.stop(
                "missing_intermediate",
                f"Kæden er ikke komplet: udstederen “{missing}” mangler. Tilføj udstederens certifikat (fx “Den "
                "Danske Stat OCES udstedende-CA 1”) i samme .pem- eller .zip-fil, så hele kæden er med.",
                f"The chain is incomplete: the issuer “{missing}” is missing. Add the issuer's certificate (e.g. “Den "
                "Danske Stat OCES udstedende-CA 1”) to the same .pem or .zip file so the whole chain is included.",
            )
        raise intake.stop(
            "root_not_trusted",
            f"Kæden fører til “{_cn(current.issuer)}”, som ikke er et godkendt rodcertifikat for {env_da}. Tjek, at "
            "certifikatet er udstedt til det rigtige miljø (test eller produktion).",
            f"The chain leads to “{_cn(current.issuer)}”, which is not a trusted root for {env_en}. Check that the "
            "certificate was issued for the right environment (test or production).",
        )
    if not ends_at_anchor:
        raise intake.stop(
            "chain_too_long",
            f"Kæden er længere end {MAX_CHAIN_DEPTH} certifikater. Upload kun systemets certifikat og dets udstedere.",
            f"The chain is longer than {MAX_CHAIN_DEPTH} certificates. Upload only the system's certificate and its "
            "issuers.",
        )
    unrelated = [c for c in certificates if not any(c is p for p in path)]
    for extra in unrelated:
        intake.add(
            "unrelated_certificate",
            ERROR,
            f"“{_cn(extra.subject)}” hører ikke til kæden for “{_cn(leaf.subject)}”. Fjern det, så uploaden kun "
            "indeholder systemets certifikat og dets udstedere.",
            f"“{_cn(extra.subject)}” is not part of the chain of “{_cn(leaf.subject)}”. Remove it so the upload "
            "holds only the system's certificate and its issuers.",
        )

    _check_certificates(path, leaf, at, intake)
    _check_cvr(leaf, expected_cvr, intake)
    if any(f.severity == ERROR for f in intake.findings):
        return ()

    intermediates = [c for c in path[1:] if not _is_self_signed(c)]
    verifier = (
        PolicyBuilder()
        .store(Store(list(trust.roots)))
        .time(at)
        .max_chain_depth(MAX_CHAIN_DEPTH)
        .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=_ee_extension_policy())
        .build_client_verifier()
    )
    try:
        verified = verifier.verify(leaf, intermediates)
    except VerificationError as error:
        raise intake.stop(
            "chain_invalid",
            "Certifikatkæden kunne ikke godkendes (en signatur eller en udvidelse i et af certifikaterne er ikke "
            "gyldig). Hent kæden igen fra udstederen, og kontakt KMD Opus Personale support, hvis fejlen består. "
            f"Teknisk detalje: {error}",
            "The certificate chain could not be verified (a signature or an extension in one of the certificates "
            f"is not valid). Fetch the chain again from the issuer, and contact support if it persists. Detail: {error}",
        ) from None
    roles = ["leaf"] + ["intermediate"] * (len(verified.chain) - 2) + ["root"]
    uploaded_root = path[-1] if _is_self_signed(path[-1]) else None
    entries = []
    for cert, role in zip(verified.chain, roles, strict=True):
        if role == "root" and uploaded_root is None:
            continue  # the anchor was not in the upload; the chain shows what was delivered
        entries.append(_entry(cert, role))
    return tuple(entries)


def _check_certificates(path: list[x509.Certificate], leaf: x509.Certificate, at: datetime, intake: _Intake) -> None:
    for cert in path:
        name = _cn(cert.subject)
        if cert.signature_hash_algorithm is not None and isinstance(
            cert.signature_hash_algorithm, (hashes.SHA1, hashes.MD5)
        ):
            intake.add(
                "weak_signature_algorithm",
                ERROR,
                f"“{name}” er signeret med {cert.signature_hash_algorithm.name.upper()}, som ikke længere er sikker. "
                "OCES3-certifikater bruger SHA-256 eller stærkere; hent det rigtige certifikat.",
                f"“{name}” is signed with {cert.signature_hash_algorithm.name.upper()}, which is no longer secure. "
                "OCES3 certificates use SHA-256 or stronger; fetch the right certificate.",
            )
        if cert.not_valid_after_utc < at:
            code = "leaf_expired" if cert is leaf else "issuer_expired"
            intake.add(
                code,
                ERROR,
                f"“{name}” udløb {cert.not_valid_after_utc:%d.%m.%Y}. Bestil et nyt certifikat, og upload den nye kæde.",
                f"“{name}” expired on {cert.not_valid_after_utc:%Y-%m-%d}. Order a new certificate and upload the new "
                "chain.",
            )
        elif cert.not_valid_before_utc > at:
            code = "leaf_not_yet_valid" if cert is leaf else "issuer_not_yet_valid"
            intake.add(
                code,
                ERROR,
                f"“{name}” gælder først fra {cert.not_valid_before_utc:%d.%m.%Y}. Upload det, når det er gyldigt, "
                "eller tjek maskinens ur, hvis certifikatet lige er udstedt.",
                f"“{name}” is only valid from {cert.not_valid_before_utc:%Y-%m-%d}. Upload it once it is valid.",
            )
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
    try:
        eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        eku = None
    if eku is not None and ExtendedKeyUsageOID.CLIENT_AUTH not in eku:
        intake.add(
            "eku_not_client_auth",
            ERROR,
            "Systemcertifikatet må ifølge sin “extended key usage” ikke bruges til at logge på webservices "
            "(clientAuth). Brug systemets OCES3-system- eller organisationscertifikat.",
            "The system certificate's extended key usage does not allow logging on to web services (clientAuth). "
            "Use the system's OCES3 system or organisation certificate.",
        )
    if not any(f.severity == ERROR for f in intake.findings):
        left = leaf.not_valid_after_utc - at
        if left < timedelta(days=EXPIRY_WARNING_DAYS):
            intake.add(
                "leaf_expires_soon",
                WARNING,
                f"Systemcertifikatet udløber {leaf.not_valid_after_utc:%d.%m.%Y} – om {left.days} dage. Bestil et nyt "
                "i god tid, og upload det, når det er klar.",
                f"The system certificate expires on {leaf.not_valid_after_utc:%Y-%m-%d} – in {left.days} days. Order "
                "a new one in good time and upload it when ready.",
            )


def _check_cvr(leaf: x509.Certificate, expected_cvr: str, intake: _Intake) -> None:
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


_NAME_LABELS = {NameOID.SERIAL_NUMBER: "serialNumber", ORGANIZATION_IDENTIFIER: "organizationIdentifier"}


def _entry(cert: x509.Certificate, role: str) -> ChainEntry:
    return ChainEntry(
        role=role,
        subject=cert.subject.rfc4514_string(_NAME_LABELS),
        issuer=cert.issuer.rfc4514_string(_NAME_LABELS),
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
    """Split a stored RFC 4514 name (as `_entry` wrote it) into what HR staff recognise; unknown parts stay empty."""
    try:
        name = x509.Name.from_rfc4514_string(rfc4514, {label: oid for oid, label in _NAME_LABELS.items()})
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
