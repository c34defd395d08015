"""A choice field's label, as get_FOO_display() gives it, without rebuilding every choice on each call."""

from functools import cache

from django.db import models
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable


@cache
def _labels(field: models.Field) -> dict:
    """The field's choices by value, their labels still lazy (translated when shown, in the reader's language).
    Built once per field: the project's choices are fixed enums (TextChoices), never a callable."""
    return {make_hashable(value): label for value, label in field.flatchoices}


class ChoiceLabels:
    """A model's get_FOO_display() from a table made once per field.

    Django's own builds a dict of every choice on each call, turning each lazy label into a hashable (and so
    translating it): for an order's state that is ten labels translated to show one, on every row of every list.
    Django binds get_FOO_display to the model's `_get_FIELD_display` when the class is made, so a model that lists
    this mixin before models.Model gets it for every choice field; what it returns is exactly what Django's gives
    (tests/test_choice_labels.py compares them for every choice of every such model, in both languages).
    """

    def _get_FIELD_display(self, field: models.Field) -> str:  # noqa: N802 – Django's name
        value = getattr(self, field.attname)
        return force_str(_labels(field).get(make_hashable(value), value), strings_only=True)
