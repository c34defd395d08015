"""Validators for what people type: Danish business identifiers, and text that reads as what it says."""

import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# The CVR register's modulus-11 check: the digits times these weights sum to a multiple of 11.
CVR_WEIGHTS = (2, 7, 6, 5, 4, 3, 2, 1)


def cvr_checksum_ok(digits: str) -> bool:
    return sum(int(d) * w for d, w in zip(digits, CVR_WEIGHTS, strict=True)) % 11 == 0


def validate_cvr(value: str) -> None:
    """A CVR number is exactly eight digits, never starts with 0 and passes the modulus-11 check."""
    if not (len(value) == 8 and value.isascii() and value.isdigit() and value[0] != "0"):
        raise ValidationError(
            _("A CVR number is 8 digits, for example 55133018. You entered “%(value)s”."),
            code="invalid_cvr",
            params={"value": value},
        )
    if not cvr_checksum_ok(value):
        raise ValidationError(
            _(
                "“%(value)s” is not a CVR number: it fails the CVR register’s check (modulus 11). "
                "Check the number on virk.dk or on the company’s invoice."
            ),
            code="invalid_cvr_check_digit",
            params={"value": value},
        )


def gs1_check_digit(digits: str) -> int:
    """The GS1 check digit for the digits before it (weights 3 and 1 from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def validate_ean(value: str) -> None:
    """An EAN/GLN location number: 13 digits, the last one the GS1 check digit."""
    if not (len(value) == 13 and value.isascii() and value.isdigit()):
        raise ValidationError(
            _("An EAN number is 13 digits. You entered “%(value)s”."),
            code="invalid_ean",
            params={"value": value},
        )
    if gs1_check_digit(value[:12]) != int(value[12]):
        raise ValidationError(
            _(
                "The EAN number “%(value)s” has a wrong check digit. Check the number on the customer’s invoice details."
            ),
            code="invalid_ean_check_digit",
            params={"value": value},
        )


# Characters that change how text looks or reads without being seen: control characters (Cc), format
# characters (Cf: bidi overrides U+202A-202E and isolates U+2066-2069, zero-width spaces and joiners
# U+200B-200F, the BOM U+FEFF, the soft hyphen), line and paragraph separators, private-use, surrogate
# and unassigned code points. "Direk\u202erøt\u202c" shows as "Direktør" but says something else.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})
# Multi-line text (notes, comments, reasons) keeps its line breaks and tabs, and what pasting from a
# word processor brings along (soft hyphens, zero-width spaces); only raw control characters are refused
# there (a NUL is also what PostgreSQL refuses to store).
_LINE_BREAKS = frozenset("\n\r\t")


def hidden_characters(value: str, *, multiline: bool = False) -> list[str]:
    """The invisible characters in `value` as U+XXXX codes, each once, in the order they occur."""
    if multiline:
        found = (c for c in value if c not in _LINE_BREAKS and unicodedata.category(c) == "Cc")
    else:
        found = (c for c in value if unicodedata.category(c) in _HIDDEN_CATEGORIES)
    return list(dict.fromkeys(f"U+{ord(c):04X}" for c in found))


def hidden_characters_message(codes: list[str]) -> str:
    return _(
        "The text contains invisible characters (%(characters)s) that can make it read differently from "
        "what is shown. Type it again by hand instead of pasting it."
    ) % {"characters": ", ".join(codes)}


def too_long_message(length: int, limit: int) -> str:
    return _("The text is %(length)s characters long; at most %(limit)s are allowed. Shorten it.") % {
        "length": length,
        "limit": limit,
    }


def validate_single_line_text(value: str) -> None:
    """A name, a title, a reference: one line, no invisible characters."""
    codes = hidden_characters(value)
    if codes:
        raise ValidationError(hidden_characters_message(codes), code="hidden_characters")


def validate_multiline_text(value: str) -> None:
    """A note, a comment, a reason: line breaks allowed, raw control characters not."""
    codes = hidden_characters(value, multiline=True)
    if codes:
        raise ValidationError(hidden_characters_message(codes), code="hidden_characters")


def typed_text_field(model, name: str, label, *, multiline: bool = False, **options) -> forms.CharField:
    """A form's field for the model's text field `name`: its length limit and the single- or multi-line check
    (multi-line text in a three-row box), so that a form refuses what the model cannot keep."""
    if multiline:
        options.setdefault("widget", forms.Textarea(attrs={"rows": 3}))
    return forms.CharField(
        label=label,
        max_length=model._meta.get_field(name).max_length,
        validators=[validate_multiline_text if multiline else validate_single_line_text],
        **options,
    )


def typed_text_problem(value: str, *, max_length: int, multiline: bool = False) -> str | None:
    """What is wrong with text a person typed, as a sentence for them; None when it is fine.

    Services call this too, so the admin and a future API refuse what the forms refuse.
    """
    if len(value) > max_length:
        return too_long_message(len(value), max_length)
    codes = hidden_characters(value, multiline=multiline)
    return hidden_characters_message(codes) if codes else None


# A path on the documentation site: it is appended to OPUS_INTEGRATION_DOCS_URL, so it can never
# lead to another host ("//evil.example", "@evil.example") or carry a script ("javascript:").
_DOCUMENTATION_PATH = re.compile(r"/(?!/)[A-Za-z0-9/_.~%#?=&+-]*")


def validate_documentation_path(value: str) -> None:
    if not _DOCUMENTATION_PATH.fullmatch(value):
        raise ValidationError(
            _(
                "Type the path of the page on the documentation site, starting with one “/”, "
                "for example /area/opus-personal-api. You entered “%(value)s”."
            ),
            code="invalid_documentation_path",
            params={"value": value},
        )
