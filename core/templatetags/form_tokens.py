from django import template
from django.utils.html import format_html

from core.form_tokens import FIELD, form_token_issue

register = template.Library()


@register.simple_tag(takes_context=True)
def form_token(context) -> str:
    """The hidden one-time token of a form that writes (core/form_tokens.py); next to {% csrf_token %}."""
    return format_html(
        '<input type="hidden" name="{}" value="{}">', FIELD, form_token_issue(context["request"].user.pk)
    )
