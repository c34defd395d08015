from django import template

register = template.Library()


@register.filter
def findings_in(upload, language: str) -> list[dict]:
    """An upload's findings as sentences in the page's language."""
    return upload.messages(language or "da")
