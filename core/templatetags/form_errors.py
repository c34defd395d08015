from django import forms, template

register = template.Library()

# Widgets shown as a group of boxes (core/templatetags/form_field.py): the summary links to the first box, which takes focus.
_GROUPS = (forms.RadioSelect, forms.CheckboxSelectMultiple)


@register.filter
def error_links(form: forms.BaseForm) -> list[dict]:
    """Every error of `form`, the form's own first, then each field's in the form's order, each with the id of
    the input it concerns ("" for the form's own and hidden fields): DKFDS's error summary lists them all as links."""
    errors = [{"href": "", "message": message} for message in form.non_field_errors()]
    for field in form:
        if not field.errors:
            continue
        target = "" if field.is_hidden or not field.auto_id else field.auto_id
        if target and isinstance(field.field.widget, _GROUPS):
            target = f"{target}_0"
        errors.extend({"href": target, "message": message} for message in field.errors)
    return errors
