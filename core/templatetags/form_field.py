"""`{% form_field field %}`: one form field the DKFDS way: label, hint, error messages, input.

Written in Python rather than as an included template: a form field drawn by the template engine cost a quarter
of a millisecond (every `{{ field.field.widget.attrs.maxlength }}` a chain of lookups), and the order page draws
seven, the order form eleven. What it draws, by the widget's type:
- a group of radio buttons or checkboxes: a fieldset whose legend is the label, a box a choice;
- one checkbox: the box with its label after it;
- a hidden field: as Django draws it;
- anything else: the label above a select, a text area or an input.
A field neither required nor `conditional` (a field the form shows only where it applies, or a filter) says
"(optional)" after its label. Every value is escaped, as the template engine would.
"""

from django import template
from django.forms import BoundField
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

register = template.Library()

GROUPS = {"radioselect": "radio", "checkboxselectmultiple": "checkbox"}  # widget type → the DKFDS box


@register.simple_tag
def form_field(field: BoundField) -> SafeString:
    widget_type = field.widget_type
    hint_id = f"{field.auto_id}-hint" if field.help_text else ""
    errors = format_html_join(
        "",
        '<span class="form-error-message"><span class="sr-only">{} </span>{}</span>',
        ((gettext("Error:"), error) for error in field.errors),
    )
    if widget_type == "hidden":
        drawn = str(field)  # as Django draws it (already safe)
    elif widget_type in GROUPS:
        drawn = _group(field, GROUPS[widget_type], hint_id, errors)
    elif widget_type == "checkbox":
        drawn = format_html(
            '{}<div class="form-group-checkbox"><input class="form-checkbox" type="checkbox" id="{}" name="{}"{}>'
            '<label for="{}">{}</label></div>',
            errors,
            field.auto_id,
            field.html_name,
            mark_safe(" checked") if field.value() else "",
            field.auto_id,
            field.label,
        )
    else:
        drawn = format_html(
            '<label class="form-label" for="{}">{}{}</label>{}{}{}',
            field.auto_id,
            field.label,
            _optional(field),
            _hint(field, hint_id),
            errors,
            _input(field, widget_type, hint_id),
        )
    return format_html('<div class="form-group{}">{}</div>', " form-error" if field.errors else "", drawn)


def _optional(field: BoundField) -> SafeString | str:
    if field.field.required or getattr(field.field, "conditional", False):
        return ""
    return format_html(' <span class="weight-normal">({})</span>', gettext("optional"))


def _hint(field: BoundField, hint_id: str) -> SafeString | str:
    return format_html('<span class="form-hint" id="{}">{}</span>', hint_id, field.help_text) if hint_id else ""


def _described(hint_id: str) -> SafeString | str:
    return format_html(' aria-describedby="{}"', hint_id) if hint_id else ""


def _group(field: BoundField, box: str, hint_id: str, errors: SafeString) -> SafeString:
    choices = format_html_join(
        "",
        '<li class="form-group-{}"><input class="form-{}" type="{}" id="{}" name="{}" value="{}"{}>'
        '<label for="{}">{}</label></li>',
        (
            (
                box,
                box,
                box,
                choice.id_for_label,
                choice.data["name"],
                choice.data["value"],
                mark_safe(" checked") if choice.data["selected"] else "",
                choice.id_for_label,
                choice.choice_label,
            )
            for choice in field
        ),
    )
    return format_html(
        '<fieldset aria-describedby="{}"><legend class="form-label">{}{}</legend>{}{}'
        '<ul class="nobullet-list">{}</ul></fieldset>',
        hint_id,
        field.label,
        _optional(field),
        _hint(field, hint_id),
        errors,
        choices,
    )


def _options(field: BoundField) -> SafeString:
    """A select's options, the one chosen selected, as Django's Select draws them (Select.optgroups), without making
    a subwidget of each choice first: the order list's filters draw some forty options on every page, and each
    subwidget cost 20–30 µs. Choices in groups are left to Django (`_options_as_django`)."""
    widget = field.field.widget
    chosen = set(widget.format_value(field.value()))
    choices, selected = [], False
    for value, label in widget.choices:
        if isinstance(label, list | tuple):
            return _options_as_django(field)
        value = "" if value is None else str(value)
        # As Django: a single select selects the first option with the value chosen, never a second.
        is_selected = not selected and value in chosen
        selected = selected or is_selected
        choices.append((value, mark_safe(" selected") if is_selected else "", label))
    return format_html_join("", '<option value="{}"{}>{}</option>', choices)


def _options_as_django(field: BoundField) -> SafeString:
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (choice.data["value"], mark_safe(" selected") if choice.data["selected"] else "", choice.choice_label)
            for choice in field
        ),
    )


def _input(field: BoundField, widget_type: str, hint_id: str) -> SafeString:
    widget = field.field.widget
    maxlength = widget.attrs.get("maxlength")
    if widget_type == "select":
        options = _options(field)
        return format_html(
            '<select class="form-select" id="{}" name="{}"{}>{}</select>',
            field.auto_id,
            field.html_name,
            _described(hint_id),
            options,
        )
    if widget_type == "textarea":
        value = field.value()
        return format_html(
            '<textarea class="form-input" id="{}" name="{}" rows="3"{}{}>{}</textarea>',
            field.auto_id,
            field.html_name,
            format_html(' maxlength="{}"', maxlength) if maxlength else "",
            _described(hint_id),
            "" if value is None else value,
        )
    input_type = widget.input_type
    value = field.value()
    # A password is never drawn back into the page, nor a file (a browser cannot be given one).
    attributes = [("value", "" if value is None else f"{value}")] if input_type not in ("password", "file") else []
    given = [
        ("maxlength", maxlength),
        ("inputmode", widget.attrs.get("inputmode")),
        ("accept", widget.attrs.get("accept")),
    ]
    attributes += [(name, given_value) for name, given_value in given if given_value]
    drawn = format_html("{}{}", format_html_join("", ' {}="{}"', attributes), _described(hint_id))
    required = mark_safe(" required") if field.field.required else ""
    autocomplete = {"username": "username", "password": "current-password"}.get(field.html_name)
    return format_html(
        '<input class="form-input" type="{}" id="{}" name="{}"{}{}{}>',
        input_type,
        field.auto_id,
        field.html_name,
        drawn,
        required,
        format_html(' autocomplete="{}"', autocomplete) if autocomplete else "",
    )
