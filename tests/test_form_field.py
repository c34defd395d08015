"""`{% form_field %}` draws each kind of field the DKFDS way, every value escaped (core/templatetags/form_field.py)."""

from django import forms
from django.template import Context, Template

from core.templatetags.form_field import form_field

EVIL = '"><script>alert(1)</script>'


class Everything(forms.Form):
    name = forms.CharField(label="Navn", max_length=40, help_text="Som i CPR")
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"maxlength": 500}))
    kind = forms.ChoiceField(label="Slags", choices=[("a", "A"), ("b", "B & C")])
    many = forms.MultipleChoiceField(
        label="Flere", choices=[("x", "X"), ("y", "Y")], widget=forms.CheckboxSelectMultiple
    )
    one = forms.ChoiceField(label="Én", choices=[("1", "Et"), ("2", "To")], widget=forms.RadioSelect, required=False)
    agree = forms.BooleanField(label="Jeg er enig", required=False)
    password = forms.CharField(label="Adgangskode", widget=forms.PasswordInput)
    username = forms.CharField(label="Brugernavn")
    secret = forms.CharField(widget=forms.HiddenInput)
    cvr = forms.CharField(label="CVR", widget=forms.TextInput(attrs={"inputmode": "numeric"}))


def drawn(form: forms.Form, name: str) -> str:
    return str(form_field(form[name]))


def test_a_text_input_has_its_label_hint_value_limit_and_is_required():
    form = Everything(initial={"name": EVIL})
    html = drawn(form, "name")
    assert html.startswith('<div class="form-group"><label class="form-label" for="id_name">Navn</label>')
    assert '<span class="form-hint" id="id_name-hint">Som i CPR</span>' in html
    assert 'value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html and "<script>" not in html
    assert 'maxlength="40"' in html and 'aria-describedby="id_name-hint"' in html and html.endswith(" required></div>")
    assert 'inputmode="numeric"' in drawn(form, "cvr") and "aria-describedby" not in drawn(form, "cvr")


def test_an_optional_field_says_so_unless_it_is_conditional():
    form = Everything()
    assert (
        '<label class="form-label" for="id_note">Note <span class="weight-normal">(valgfrit)</span></label>'
        in drawn(form, "note")
    )
    form.fields["note"].conditional = True
    assert "valgfrit" not in drawn(form, "note")
    assert "valgfrit" not in drawn(form, "name")  # required


def test_a_text_area_a_select_and_boxes_show_the_value_chosen():
    form = Everything(data={"note": EVIL, "kind": "b", "many": ["y"], "one": "2", "agree": "on"})
    note = drawn(form, "note")
    assert 'rows="3" maxlength="500">&quot;&gt;&lt;script&gt;' in note and "<script>" not in note
    assert '<option value="a">A</option><option value="b" selected>B &amp; C</option>' in drawn(form, "kind")
    many = drawn(form, "many")
    assert many.startswith('<div class="form-group"><fieldset aria-describedby=""><legend class="form-label">Flere')
    assert 'type="checkbox" id="id_many_0" name="many" value="x"><label for="id_many_0">X</label>' in many
    assert 'value="y" checked><label for="id_many_1">Y</label>' in many
    assert (
        'class="form-group-radio"><input class="form-radio" type="radio" id="id_one_1" name="one" value="2" checked>'
        in (drawn(form, "one"))
    )
    assert '<input class="form-checkbox" type="checkbox" id="id_agree" name="agree" checked><label for="id_agree">' in (
        drawn(form, "agree")
    )
    assert " checked" not in drawn(Everything(data={}), "agree")


def test_a_password_is_never_drawn_back_and_logins_say_what_to_fill_in():
    form = Everything(data={"password": "hemmelig-kode", "username": "bo"})
    password = drawn(form, "password")
    assert "hemmelig" not in password and "value=" not in password
    assert 'autocomplete="current-password"' in password
    assert 'value="bo"' in drawn(form, "username") and 'autocomplete="username"' in drawn(form, "username")


def test_errors_are_shown_by_their_field_and_mark_it():
    form = Everything(data={"kind": "z"})
    assert not form.is_valid()
    kind = drawn(form, "kind")
    assert kind.startswith('<div class="form-group form-error">')
    assert '<span class="form-error-message"><span class="sr-only">Fejl: </span>' in kind
    assert drawn(form, "note").startswith('<div class="form-group">')  # no error of its own


def test_a_hidden_field_is_drawn_as_django_draws_it_and_the_tag_works_in_a_template():
    form = Everything(initial={"secret": EVIL})
    assert drawn(form, "secret") == f'<div class="form-group">{form["secret"]}</div>'
    page = Template("{% load form_field %}{% form_field form.name %}").render(Context({"form": form}))
    assert page == drawn(form, "name")


def test_a_selects_options_are_drawn_as_djangos_select_draws_them(cast):
    """The options are drawn without a subwidget each (the order list's filters draw some forty on every page): the
    same HTML as Django's own, for plain and model choices, a number, None, a value chosen twice, an escaped label,
    a value that is no choice; choices in groups are left to Django."""
    from core.templatetags.form_field import _options, _options_as_django
    from ordering.models import Customer

    class Selects(forms.Form):
        plain = forms.ChoiceField(choices=[("", "Alle"), ("a", EVIL), ("b", "B"), ("b", "B igen")], required=False)
        number = forms.TypedChoiceField(choices=[(None, "Ingen"), (1, "Et"), (2, "To")], coerce=int, required=False)
        customer = forms.ModelChoiceField(Customer.objects.order_by("name"), empty_label="Alle", required=False)
        grouped = forms.ChoiceField(choices=[("Nord", [("n1", "N1")]), ("s", "Syd")], required=False)

    chosen = [
        {},
        {"plain": "b", "number": "2", "customer": str(cast.customer_b.pk), "grouped": "n1"},
        {"plain": "a", "number": "", "customer": "999999", "grouped": "s"},  # a customer that is no choice
        {"plain": "zz", "number": "1", "customer": ""},
    ]
    for data in chosen:
        for form in (Selects(data=data), Selects(initial={"customer": cast.customer_a})):
            for name in form.fields:
                assert _options(form[name]) == _options_as_django(form[name]), (data, name)
    drawn_b = _options(Selects(data={"plain": "b"})["plain"])
    assert '<option value="b" selected>B</option><option value="b">B igen</option>' in drawn_b  # the first only
    assert "&lt;script&gt;" in drawn_b and "<script>" not in drawn_b
    assert f'<option value="{cast.customer_a.pk}" selected>' in _options(
        Selects(initial={"customer": cast.customer_a})["customer"]
    )
