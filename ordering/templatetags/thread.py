"""An order's thread and history drawn in Python: `{% thread_items thread order %}` (templates/ordering/_thread.html)
and `{% history_items events %}` (templates/ordering/order_detail.html).

A message drawn by the template engine cost about 0.3 ms (its author's name, its side, two dates, its text with
line breaks, its attachments: each a chain of lookups or a filter), and a busy order's thread holds dozens; the
order page and every message sent with htmx draw them all. The tag draws the same markup, every value escaped as
the template engine would.
"""

from django import template
from django.template.defaultfilters import floatformat, linebreaksbr
from django.urls import reverse
from django.utils import formats
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import gettext

register = template.Library()


@register.simple_tag
def thread_items(messages, order) -> SafeString:
    """The thread's list items (ordering.thread.thread_of's messages, oldest first): who wrote (and for which side),
    when, the text, the attachments."""
    attachments_label = escape(gettext("Attachments"))
    drawn = []
    for message in messages:
        author = message.author
        written = template_localtime(message.created_at)
        item = (
            f'<li class="order-thread-message order-thread-{escape(message.side)}" id="message-{message.pk}">'
            f'<p class="mb-0"><strong>{escape(author.get_full_name() or author.username)}</strong> '
            f"({escape(message.get_side_display())}) · "
            f'<time datetime="{written.isoformat()}">{escape(formats.date_format(written, "SHORT_DATETIME_FORMAT"))}'
            f"</time></p>"
            f'<p class="mt-2">{linebreaksbr(message.text, autoescape=True)}</p>'
        )
        if message.files:
            links = "".join(
                f'<li><a href="{escape(reverse("ordering:order_message_attachment", args=[order.pk, file.pk]))}" '
                f"download>{escape(file.filename)}</a> ({escape(floatformat(file.size_kb, '1g'))} kB)</li>"
                for file in message.files
            )
            item += f'<ul class="mt-0" aria-label="{attachments_label}">{links}</ul>'
        drawn.append(item + "</li>")
    return mark_safe("\n".join(drawn))  # noqa: S308  (every value escaped as it was put in)


@register.simple_tag
def history_items(events) -> SafeString:
    """The history's list items (the order's audit events, oldest first): what happened, when, who (in which role),
    and what the event says in the reader's language with what the person typed. An order's history holds 10–30
    events; drawn by the template engine each cost the page about as much as a message did."""
    drawn = []
    for event in events:
        written = template_localtime(event.created_at)
        role = f" ({escape(event.get_actor_role_display())})" if event.actor_role else ""
        text = event.comment_for_reader
        said = f'<p class="mt-2 mb-0">{linebreaksbr(text, autoescape=True)}</p>' if text else ""
        drawn.append(
            f"<li><strong>{escape(event.get_kind_display())}</strong><br>"
            f'<span class="nowrap">{escape(formats.date_format(written, "SHORT_DATETIME_FORMAT"))}</span> · '
            f"{escape(event.actor_name)}{role}\n{said}\n</li>"  # as the template spaced them
        )
    return mark_safe("\n".join(drawn))  # noqa: S308  (every value escaped as it was put in)
