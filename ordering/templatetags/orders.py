"""`{% state_badge order %}`: an order's state as a DKFDS badge, coloured by what the state asks of people.

A tag, not an included template: the order lists show one a row, and an include that compared the state with
six values cost a tenth of a millisecond a row (the start page's queue and lists draw up to 85).
"""

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from core.links import url_with_number
from ordering.models import State

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
