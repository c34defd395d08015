"""Inspect an uploaded OCES3 certificate bundle: pure functions over bytes, no database, no Django.

`inspect_bundle(data, filename, trust=..., at=...)` runs the intake pipeline in a fixed order:
size cap -> search the whole upload for private keys -> sniff the type -> (zip: every byte of the
layout accounted for, central directory checks, then bounded in-memory decompression, each entry
searched for keys) -> PEM parsing -> classification -> chain verification. Every problem becomes
a `Finding` with a stable code, a severity and a sentence in Danish and English saying what is
wrong and what to do. The bundle is accepted when no finding is an error.

The pipeline's parts are pure modules of their own:

- `certificates/intake.py`: reading a zip or PEM upload down to its certificates, within limits;
- `certificates/keys.py`: finding a private key in any form it is written in;
- `certificates/chains.py`: building, checking and verifying the chain; names read as RFC 4514;
- `certificates/findings.py`: the findings they share.

Nothing but certificates passes: any part of an upload that is not a well-formed certificate –
a zip comment, bytes around the archive, a leftover entry, a PEM block of another kind, a line of
text beside the blocks other than those OpenSSL writes about certificates – is either refused or
(macOS's zip leftovers) skipped after being searched. A private key anywhere gives the
finding `private_key` and `contains_private_key`. What may be stored of an accepted upload is
`BundleReport.canonical_pem`, never the bytes sent.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime

from .chains import NAME_LABELS, ChainEntry, NameParts, TrustAnchors, chain_entry, check_chain, describe_name
from .findings import ERROR, INFO, WARNING, Finding, Intake, Rejected
from .intake import (
    MAX_CERTIFICATES,
    MAX_COMPRESSION_RATIO,
    MAX_DECOMPRESSED_BYTES,
    MAX_UPLOAD_BYTES,
    MAX_ZIP_ENTRIES,
    RATIO_FLOOR,
    parse_pem_texts,
    read_upload,
)

__all__ = [
    "ERROR",
    "INFO",
    "MAX_CERTIFICATES",
    "MAX_COMPRESSION_RATIO",
    "MAX_DECOMPRESSED_BYTES",
    "MAX_UPLOAD_BYTES",
    "MAX_ZIP_ENTRIES",
    "WARNING",
    "BundleReport",
    "ChainEntry",
    "Finding",
    "NameParts",
    "TrustAnchors",
    "describe_name",
    "inspect_bundle",
]

# The names some callers outside this app import from here (tests/registers, tests/security, bench/).
_entry = chain_entry
_NAME_LABELS = NAME_LABELS
_RATIO_FLOOR = RATIO_FLOOR


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


def inspect_bundle(
    data: bytes, filename: str, *, trust: TrustAnchors, at: datetime, expected_cvr: str = ""
) -> BundleReport:
    """Check an uploaded certificate bundle against the trust anchors of one environment at time `at`."""
    intake = Intake()
    kind = "other"
    chain: tuple[ChainEntry, ...] = ()
    try:
        kind, texts = read_upload(data, filename, intake)
        certificates = parse_pem_texts(texts, intake)
        if not intake.has_errors():
            chain = check_chain(certificates, trust, at, expected_cvr, intake)
    except Rejected:
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
