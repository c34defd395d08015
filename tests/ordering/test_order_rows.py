"""The order lists' rows drawn in Python (ordering/templatetags/orders.py): escaped, dated and labelled as the
template engine would."""

import datetime
import re

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from ordering.models import AccessOrder
from ordering.templatetags.orders import order_rows, short_date

EVIL = '<script>alert("x")</script> & co'


@pytest.mark.parametrize("language", ["da", "en"])
@pytest.mark.parametrize(
    "value",
    [
        datetime.datetime(2026, 12, 6, 22, 59, 59, tzinfo=datetime.UTC),  # 23:59:59 in Copenhagen: still the 6th
        datetime.datetime(2026, 12, 6, 23, 0, 0, tzinfo=datetime.UTC),  # midnight in Copenhagen: the 7th
        datetime.datetime(2026, 6, 30, 22, 0, 0, tzinfo=datetime.UTC),  # summer time: midnight, 1 July
        datetime.date(2026, 2, 28),
        None,
    ],
)
def test_a_short_date_is_what_the_date_filter_shows(language, value):
    with translation.override(language), timezone.override("Europe/Copenhagen"):
        shown = Template('{{ value|date:"SHORT_DATE_FORMAT" }}').render(Context({"value": value}))
        assert short_date(value) == shown
    if isinstance(value, datetime.datetime):
        assert short_date(value) != short_date(value - datetime.timedelta(days=1))


def test_every_value_in_a_row_is_escaped(cast, order_in):
    order = order_in("submitted")
    cast.customer_a.name = EVIL
    cast.customer_a.save()
    row = order_rows([AccessOrder.objects.select_related("customer", "external_system__vendor").get(pk=order.pk)], True)
    assert "<script>" not in row
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in row


def test_the_columns_asked_for_and_no_others(cast, order_in):
    order = order_in("active")
    rows = [AccessOrder.objects.get(pk=order.pk)]
    plain = order_rows(rows)
    full = order_rows(rows, show_customer=True, show_times=True, emergency_links=True)
    assert plain.count("<td") == 5 and full.count("<td") == 9
    assert 'data-label="Kunde"' in full and 'data-label="Kunde"' not in plain
    assert f'href="/orders/{order.pk}/#action-emergency_close"' in full and "#action" not in plain
    assert re.search(rf'<a href="/orders/{order.pk}/">{order.reference}</a>', plain)
    assert order_rows([]) == ""


def test_a_worklists_items_are_what_the_template_drew(cast, order_in):
    """`{% order_items %}` draws what ordering/_worklists.html's loop drew, escaped alike."""
    orders = [order_in("submitted"), order_in("draft", system=cast.canteen, codes=("engangsydelser",))]
    cast.customer_a.name = EVIL
    cast.customer_a.save()
    orders = list(AccessOrder.objects.filter(pk__in=[o.pk for o in orders]).order_by("pk"))
    template = Template(
        "{% for order in orders %}"
        '<li><a href="{{ order.get_absolute_url }}">{{ order.reference }}</a>: {{ order.customer.name }}, '
        "{{ order.external_system.name }} ({{ order.external_system.vendor.name }})</li>"
        "{% endfor %}"
    )
    drawn = Template("{% load orders %}{% order_items orders %}").render(Context({"orders": orders}))
    assert drawn == template.render(Context({"orders": orders}))
    assert drawn.count("<li>") == 2 and "&lt;script&gt;" in drawn
