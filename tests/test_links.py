"""Links to an object's page from its number (core.links): always what reverse() says."""

import pytest
from django.urls import NoReverseMatch, clear_script_prefix, reverse, set_script_prefix

from core.links import url_with_number
from ordering.models import AccessOrder
from ordering.templatetags.orders import order_url


@pytest.mark.parametrize("number", [0, 1, 9, 10, 918273645, 918273646, 10**12])
def test_a_link_is_what_reverse_gives(number):
    assert url_with_number("ordering:order_detail", number) == reverse("ordering:order_detail", args=[number])
    assert order_url(number) == reverse("ordering:order_detail", args=[number])
    assert AccessOrder(pk=number).get_absolute_url() == reverse("ordering:order_detail", args=[number])


def test_a_link_follows_the_script_prefix_it_is_served_under():
    try:
        set_script_prefix("/opus-adgang/")
        assert url_with_number("ordering:order_detail", 42) == "/opus-adgang/orders/42/"
        assert url_with_number("ordering:order_detail", 42) == reverse("ordering:order_detail", args=[42])
    finally:
        clear_script_prefix()
    assert url_with_number("ordering:order_detail", 42) == "/orders/42/"


@pytest.mark.parametrize("viewname", ["billing:invoice_list", "ordering:catalogue"])
def test_a_view_whose_url_takes_no_number_is_refused(viewname):
    with pytest.raises(NoReverseMatch):
        url_with_number(viewname, 3)


def test_a_number_is_a_number():
    with pytest.raises((TypeError, ValueError)):
        url_with_number("ordering:order_detail", "3/../../admin")
