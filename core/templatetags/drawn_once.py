"""`{% drawn_once "part.html" name=value %}`: a part a page shows more than once with the same values, drawn once.

base.html shows the main menu twice, in the desktop header and in the mobile drawer (DKFDS shows one or the other by
the screen's width), and the language switch twice too: every page drew each twice, the menu at half a millisecond a
time. The first use draws the part as `{% include … with name=value %}` would; a later use with the same values
shows the same HTML.
"""

from django import template
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag(takes_context=True)
def drawn_once(context: template.Context, template_name: str, **values) -> SafeString:
    # Kept for this render of the page only (the render context starts empty for each page drawn).
    key = ("drawn_once", template_name, tuple(sorted(values.items())))
    drawn = context.render_context.get(key)
    if drawn is None:
        part = context.template.engine.get_template(template_name)
        with context.push(**values):
            drawn = part.render(context)
        context.render_context[key] = drawn
    return drawn
