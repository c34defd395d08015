"""Private keys in an upload: found in any form they are written in, and refused with a plain message.

A pure core (no Django, no database). A private key must never be accepted or stored, and the user
must be told plainly that it was a key. So every part of an upload that is not a well-formed
certificate is searched for one, in each form a key is written in: PEM armour in any case and
spacing, also as UTF-16 or UTF-32 text (with or without a byte-order mark), base64 without armour,
DER (PKCS#8 plain and encrypted, PKCS#1, SEC1, PKCS#12 key bags), OpenSSH and PuTTY files, and
`openssl ... -text` dumps. A raw key of a few dozen random bytes cannot be told from any other
bytes; that is one more reason why nothing but the re-encoded certificates is ever stored.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re

from cryptography import x509

from .findings import Intake, shell_name, shown

# The one thing an upload may hold: certificate blocks with exactly this armour and only base64 inside.
CERT_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----[ \t\r]*\n([A-Za-z0-9+/=\s]*?)-----END CERTIFICATE-----")

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


def refuse_key_material(name: str, blob: bytes, intake: Intake) -> None:
    """Stop with the `private_key` finding if this part of the upload holds a private key."""
    found = key_material(blob)
    if found is not None:
        private_key_found(name, intake, pkcs12=found == "pkcs12")


def key_material(blob: bytes) -> str | None:
    """Does this part of an upload hold a private key? Returns "pkcs12", "key" or None."""
    try:
        x509.load_der_x509_certificate(blob)
        return None  # one DER certificate, exactly; its bytes are not searched
    except ValueError:
        pass
    rest = CERT_BLOCK.sub(b"\n", blob)  # only what is not a well-formed certificate block is searched
    # UTF-16 and UTF-32 text of ASCII is that text with NUL bytes in between, whatever the byte order.
    for text in (rest, CERT_BLOCK.sub(b"\n", rest.replace(b"\0", b""))):
        if _KEY_TEXT.search(text):
            return "key"
        for run in _BASE64_LINES.finditer(text):
            if any(_der_key_like(decoded) for decoded in _base64_decodings(run.group(0))):
                return "key"
    if _der_key_like(rest):
        return "pkcs12" if looks_like_pkcs12(blob) else "key"
    return None


def looks_like_pkcs12(data: bytes) -> bool:
    """PFX ::= SEQUENCE { version INTEGER (3), ... } (RFC 7292)."""
    if len(data) < 8 or data[0] != 0x30:
        return False
    length_byte = data[1]
    offset = 2 + (length_byte & 0x7F if length_byte & 0x80 else 0)
    return data[offset : offset + 3] == b"\x02\x01\x03"


def private_key_found(name: str, intake: Intake, *, pkcs12: bool = False) -> None:
    """Record that the upload holds a private key and stop: say it must never be shared and should be replaced."""
    intake.contains_private_key = True
    if pkcs12:
        what_da, what_en = " (en PKCS#12-fil, .p12/.pfx)", " (a PKCS#12 file, .p12/.pfx)"
        next_da = (
            "Lav derefter en fil med kun de offentlige certifikater, fx med "
            f"`openssl pkcs12 -in {shell_name(name)} -nokeys -out kaede.pem`, og upload den."
        )
        next_en = (
            "Then make a file with only the public certificates, e.g. with "
            f"`openssl pkcs12 -in {shell_name(name)} -nokeys -out chain.pem`, and upload that."
        )
    else:
        what_da = what_en = ""
        next_da = "Upload derefter kun de offentlige certifikater som .pem – gerne i en .zip-fil."
        next_en = "Then upload only the public certificates as .pem – preferably in a .zip file."
    raise intake.stop(
        "private_key",
        f"„{shown(name)}“{what_da} indeholder en privat nøgle. En privat nøgle må aldrig forlade leverandøren og må "
        "aldrig deles – heller ikke med KMD. Uploaden er afvist, og intet af den er gemt. Da nøglen nu har været "
        "sendt, skal leverandøren få certifikatet spærret og genudstedt (udskiftes med et nyt). " + next_da,
        f"“{shown(name)}”{what_en} contains a private key. A private key must never leave the vendor and must never "
        "be shared – not even with KMD. The upload was refused and nothing of it was stored. Because the key has now "
        "been sent, the vendor must have the certificate revoked and reissued (replaced with a new one). " + next_en,
    )


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
            if _versioned_key_at(blob, start):
                return True
        elif _encrypted_key_at(blob, start):
            return True
    return False


def _versioned_key_at(blob: bytes, start: int) -> bool:
    """Does a key structure that opens with a version INTEGER (PKCS#8, PKCS#1, SEC1) start at `start`?"""
    version, after = blob[start + 2], start + 3
    tag = blob[after : after + 1]
    inner = _der_length(blob, after)
    if inner is None:
        return False
    inner_end = inner[0] + inner[1]
    following = blob[inner_end : inner_end + 1]
    if tag == b"\x30" and blob[inner[0] : inner[0] + 1] == b"\x06" and following == b"\x04":
        return True  # PKCS#8: version, AlgorithmIdentifier, the key as an OCTET STRING
    if tag == b"\x02" and version == 0 and inner[1] >= 64 and following == b"\x02":
        return True  # PKCS#1 (RSA) or OpenSSL's DSA: version 0, then the modulus and more INTEGERs
    return tag == b"\x04" and version == 1 and 16 <= inner[1] <= 66  # SEC1 (EC): version 1, then the private scalar


def _encrypted_key_at(blob: bytes, start: int) -> bool:
    """Does an encrypted PKCS#8 key (a password-based AlgorithmIdentifier, then an OCTET STRING) start at `start`?"""
    algorithm = _der_length(blob, start)
    oid = _der_length(blob, algorithm[0]) if algorithm else None
    if algorithm is None or oid is None:
        return False
    identifier = blob[oid[0] : oid[0] + oid[1]]
    following = blob[algorithm[0] + algorithm[1] : algorithm[0] + algorithm[1] + 1]
    return identifier.startswith(_PASSWORD_ENCRYPTION_OIDS) and following == b"\x04"
