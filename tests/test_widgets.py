"""The hidden input drawn in Python (core/widgets.py) is what Django's own draws through its templates."""

import pytest
from django import forms
from django.utils.safestring import SafeString, mark_safe

from core.widgets import HiddenInput

EVIL = '"><script>x</script>&'
TRUSTED = mark_safe(EVIL)  # noqa: S308  (what Django trusts, as a value marked safe by the code)


@pytest.mark.parametrize("value", [None, "", "submitted", 3, 2.5, True, False, EVIL, TRUSTED])
@pytest.mark.parametrize(
    "attrs",
    [None, {"id": "id_state"}, {"id": 'a"b', "data-on": True, "data-off": False, "class": EVIL}, {"x": TRUSTED}],
)
def test_a_hidden_input_is_what_django_draws(value, attrs):
    ours = HiddenInput(attrs={"data-kept": "1"}).render("expected<state", value, attrs)
    assert ours == forms.HiddenInput(attrs={"data-kept": "1"}).render("expected<state", value, attrs)
    trusted = isinstance(value, SafeString) or any(isinstance(v, SafeString) for v in (attrs or {}).values())
    assert ("<script>" in ours) is trusted  # escaped unless marked safe, as Django's own


def test_a_form_draws_its_hidden_field_as_django_would():
    class Ours(forms.Form):
        state = forms.CharField(widget=HiddenInput)

    class Djangos(forms.Form):
        state = forms.CharField(widget=forms.HiddenInput)

    assert str(Ours(initial={"state": EVIL})["state"]) == str(Djangos(initial={"state": EVIL})["state"])
    assert str(Ours(data={"state": "active"})["state"]) == str(Djangos(data={"state": "active"})["state"])
