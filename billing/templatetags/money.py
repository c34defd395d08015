from decimal import Decimal

from django import template

from billing.pricing import kroner as _kroner

register = template.Library()


@register.filter
def kroner(value) -> str:
    """12.345,50 kr."""
    if value in (None, ""):
        return ""
    return _kroner(Decimal(value))


@register.filter
def line_text(line, language: str) -> str:
    return line.text(language or "da")
