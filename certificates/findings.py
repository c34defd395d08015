"""What the certificate intake says about an upload: findings, and how names appear in them.

Shared by the pure cores `intake`, `keys` and `chains` (and composed in `validation`); no Django.
A finding carries its sentence in Danish and in English, so the cores need no translation machinery:
the page picks the language with `Finding.message`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.x509.oid import NameOID

ERROR, WARNING, INFO = "error", "warning", "info"

_UNSAFE_NAME_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    da: str
    en: str

    def message(self, language: str = "da") -> str:
        return self.en if language.startswith("en") else self.da


class Rejected(Exception):
    """Stop the pipeline: the upload cannot be read further."""


@dataclass
class Intake:
    """What has been found so far while one upload is read."""

    findings: list[Finding] = field(default_factory=list)
    contains_private_key: bool = False
    decompressed_bytes: int = 0

    def add(self, code: str, severity: str, da: str, en: str) -> None:
        self.findings.append(Finding(code, severity, da, en))

    def stop(self, code: str, da: str, en: str) -> Rejected:
        self.add(code, ERROR, da, en)
        return Rejected(code)

    def has_errors(self) -> bool:
        return any(f.severity == ERROR for f in self.findings)


def unsafe_name_chars(name: str) -> re.Match | None:
    """Control characters and backslashes: never part of a file name we show or unpack."""
    return _UNSAFE_NAME_CHARS.search(name)


def shown(name: str) -> str:
    """A file name from the upload as a finding shows it, with control characters and backslashes replaced."""
    return _UNSAFE_NAME_CHARS.sub("?", name)


def shell_name(name: str) -> str:
    """A file name safe to put in a command the user is told to run, or a neutral one."""
    base = name.rsplit("/", 1)[-1]
    return base if re.fullmatch(r"[A-Za-z0-9._-]+", base) else "fil"


def common_name(name: x509.Name) -> str:
    """How a certificate is named in a finding: its CN, or the whole name when it has none."""
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else name.rfc4514_string()
