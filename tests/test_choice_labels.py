"""core.choices.ChoiceLabels: get_FOO_display() from a table made once per field, saying exactly what Django's does."""

import pytest
from django.apps import apps
from django.db import models
from django.utils import translation

from core.choices import ChoiceLabels

MODELS = [model for model in apps.get_models() if issubclass(model, ChoiceLabels)]


def test_the_models_whose_choices_the_pages_show_use_it():
    names = {model.__name__ for model in MODELS}
    assert {"AccessOrder", "Addendum", "Certificate", "ConsultingRequest", "ExternalSystem", "Interface"} <= names


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
@pytest.mark.parametrize("language", ["da", "en"])
def test_every_choice_reads_as_djangos_own_get_display_in_each_language(model, language):
    fields = [field for field in model._meta.concrete_fields if field.choices]
    assert fields, f"{model.__name__} has no choice field: it needs no ChoiceLabels"
    with translation.override(language):
        for field in fields:
            display = getattr(model, f"get_{field.name}_display")
            for value in [value for value, _label in field.flatchoices] + ["no-such-choice", ""]:
                instance = model(**{field.attname: value})
                ours, djangos = display(instance), models.Model._get_FIELD_display(instance, field)
                assert ours == djangos, (model.__name__, field.name, value)
                assert type(ours) is type(djangos)


def test_a_label_is_translated_when_read_not_when_the_table_was_made():
    from ordering.models import AccessOrder

    order = AccessOrder(state="awaiting_signature")
    with translation.override("en"):
        assert order.get_state_display() == "Awaiting signature"
    with translation.override("da"):
        assert order.get_state_display() == "Afventer accept"
