from decimal import Decimal

from django import template
from django.utils.translation import get_language

from billing.pricing import kroner as _kroner
from billing.pricing import kroner_en as _kroner_en

register = template.Library()


@register.filter
def kroner(value) -> str:
    """12.345,50 kr. in Danish, DKK 12,345.50 in English."""
    if value in (None, ""):
        return ""
    if (get_language() or "da").startswith("en"):
        return _kroner_en(Decimal(value))
    return _kroner(Decimal(value))


@register.filter
def line_text(line, language: str) -> str:
    return line.text(language or "da")
