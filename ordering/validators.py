"""Validators for Danish business identifiers."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def validate_cvr(value: str) -> None:
    """A CVR number is exactly eight digits and never starts with 0."""
    if not (len(value) == 8 and value.isascii() and value.isdigit() and value[0] != "0"):
        raise ValidationError(
            _("A CVR number is 8 digits, for example 12345678. You entered “%(value)s”."),
            code="invalid_cvr",
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
