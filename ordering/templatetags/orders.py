"""The order lists' rows, drawn in Python: `{% order_rows rows … %}`, `{% state_badge order %}`, `|order_url`.

Tags, not templates: every order list (the start pages' queue and the customer's orders, the order list, support's
search) draws a row an order, and the template engine spent 160 µs on each (every `{{ order.customer.name }}` a
chain of lookups, every date a filter); the tags draw the same markup in a third of that.
"""

import datetime
from functools import lru_cache
from html import escape

from django import template
from django.utils import formats
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import get_language, gettext

from core.links import url_with_number
from ordering.models import State, TestAccess

register = template.Library()

# Running access green, ended by force or refused red, waiting on the customer amber; the rest (with KMD, or
# ended as agreed) blue.
BADGE_OF_STATE = {
    State.ACTIVE: "badge-success",
    State.EMERGENCY_CLOSED: "badge-error",
    State.REJECTED: "badge-error",
    State.AWAITING_SIGNATURE: "badge-warning",
    State.CLOSURE_REQUESTED: "badge-warning",
    State.DRAFT: "badge-warning",
}


@register.simple_tag
def state_badge(order) -> SafeString:
    return format_html(
        '<span class="badge {}">{}</span>', BADGE_OF_STATE.get(order.state, "badge-info"), order.get_state_display()
    )


@register.filter
def order_url(pk: int) -> str:
    """`{{ line.order_id|order_url }}`: the order page's URL from the order's id alone, as a row that holds only the
    id links it (an invoice's line, a licence), without reading the order (core.links)."""
    return url_with_number("ordering:order_detail", pk)


def short_date(value) -> str:
    """`{{ value|date:"SHORT_DATE_FORMAT" }}`: a time in the reader's time zone first, as the template filter does.

    A short date shows the day alone, so the day is what is formatted (a list shows a few days many times)."""
    if value in (None, ""):
        return ""
    local = template_localtime(value)
    return _short_date_of(local.date() if isinstance(local, datetime.datetime) else local, get_language())


@lru_cache(maxsize=4096)
def _short_date_of(day: datetime.date, _language: str) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT")  # in the active language, which the key names


def _escaped(value) -> str:
    """As the template engine escapes a value (django.utils.html.escape), without its check for a lazy string: every
    value here is a plain one."""
    return escape(str(value))


def _test_access_end(access: TestAccess) -> str:
    if access.status == TestAccess.Status.CLOSED:
        said = gettext("test access closed with the order")
    elif access.status == TestAccess.Status.EXPIRED:
        said = gettext("test access expired %(date)s") % {"date": short_date(access.ends_on)}
    else:
        said = gettext("test access ends %(date)s") % {"date": short_date(access.ends_on)}
    return f'<br><span class="nowrap">{_escaped(said)}</span>'


def _state_cell(order) -> str:
    """The state, why the order is back with someone (its latest lifecycle action), an open emergency request and
    the date a running access closes on."""
    cell = state_badge(order)
    if order.last_action == "return_for_changes":
        cell += f'<br><span class="badge badge-warning">{_escaped(gettext("Returned by KMD"))}</span>'
    elif order.last_action == "decline":
        cell += f'<br><span class="badge badge-warning">{_escaped(gettext("Declined by the customer"))}</span>'
    if order.emergency_request_open:
        cell += f'<br><span class="badge badge-error">{_escaped(gettext("Emergency closure requested"))}</span>'
    if order.closure_pending:
        closes = gettext("closes %(date)s") % {"date": short_date(order.closure_pending)}
        cell += f'<br><span class="nowrap">{_escaped(closes)}</span>'
    return cell


@register.simple_tag
def order_rows(rows, show_customer=False, show_times=False, emergency_links=False) -> SafeString:
    """The body rows of ordering/_order_table.html: an order's reference (its link), customer, system and vendor,
    environment (and its test access's end), state, when it was made; with `show_times` since when it waits and
    when it last changed; with `emergency_links` the way to emergency-close it. Each cell is labelled with its
    column's heading, for the stacked table on a phone. Every value is escaped as it is put in."""
    label = {
        key: _escaped(gettext(text))
        for key, text in {
            "order": "Order",
            "customer": "Customer",
            "system": "External system",
            "environment": "Environment",
            "state": "State",
            "created": "Created",
            "waiting": "Waiting since",
            "changed": "Last changed",
            "action": "Action",
        }.items()
    }
    emergency_close = _escaped(gettext("Emergency-close"))
    drawn = []
    for order in rows:
        url, reference, system = _escaped(order.get_absolute_url()), _escaped(order.reference), order.external_system
        test_access = order.test_access_if_any
        row = f'<tr><td class="nowrap" data-label="{label["order"]}"><a href="{url}">{reference}</a></td>'
        if show_customer:
            row += f'<td data-label="{label["customer"]}">{_escaped(order.customer.name)}</td>'
        row += (
            f'<td data-label="{label["system"]}">{_escaped(system.name)} '
            f'<span class="weight-normal">({_escaped(system.vendor.name)})</span></td>'
            f'<td data-label="{label["environment"]}">{_escaped(order.get_environment_display())}'
            f"{_test_access_end(test_access) if test_access else ''}</td>"
            f'<td data-label="{label["state"]}">{_state_cell(order)}</td>'
            f'<td class="nowrap" data-label="{label["created"]}">{_escaped(short_date(order.created_at))}</td>'
        )
        if show_times:
            # Since when the order waits: annotated by the order list (ordering.filters).
            waiting = short_date(getattr(order, "waiting_since", None))
            row += (
                f'<td class="nowrap" data-label="{label["waiting"]}">{_escaped(waiting)}</td>'
                f'<td class="nowrap" data-label="{label["changed"]}">{_escaped(short_date(order.updated_at))}</td>'
            )
        if emergency_links:
            row += (
                f'<td data-label="{label["action"]}"><a class="nowrap" href="{url}#action-emergency_close">'
                f'{emergency_close}<span class="sr-only"> {reference}</span></a></td>'
            )
        drawn.append(row + "</tr>")
    return mark_safe("\n".join(drawn))  # noqa: S308  (every value escaped as it was put in)


@register.simple_tag
def order_items(orders) -> SafeString:
    """The start page's worklists (ordering/_worklists.html): an item an order, its reference linked, then its customer,
    system and vendor."""
    return mark_safe(  # noqa: S308  (every value escaped as it is put in)
        "".join(
            f'<li><a href="{_escaped(order.get_absolute_url())}">{_escaped(order.reference)}</a>: '
            f"{_escaped(order.customer.name)}, {_escaped(order.external_system.name)} "
            f"({_escaped(order.external_system.vendor.name)})</li>"
            for order in orders
        )
    )
