"""A customer's orders are invisible to everyone outside it: every page that shows an order answers 404."""

import pytest
from django.urls import reverse

from ordering.models import AccessOrder

OUTSIDERS = ["orderer_b", "signatory_b", "am_b", "outsider"]
INSIDERS = ["orderer_a", "signatory_a", "am_a", "support"]


def order_pages(order):
    return [
        reverse("ordering:order_detail", args=[order.pk]),
        reverse("ordering:order_edit", args=[order.pk]),
    ]


@pytest.mark.parametrize("person", OUTSIDERS)
@pytest.mark.parametrize("state", ["draft", "awaiting_signature", "active"])
def test_other_customers_and_their_account_managers_get_404_on_every_order_page(cast, order_in, client, person, state):
    order = order_in(state)
    client.force_login(getattr(cast, person))
    for url in order_pages(order):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("person", OUTSIDERS)
@pytest.mark.parametrize(
    "action", ["submit", "withdraw", "issue_addendum", "accept", "decline", "activate", "close", "emergency_close"]
)
def test_other_customers_get_404_when_posting_any_action(cast, order_in, client, person, action):
    order = order_in("draft")
    client.force_login(getattr(cast, person))
    response = client.post(
        reverse("ordering:order_transition", args=[order.pk, action]),
        {"expected_state": "draft", "comment": "x", "confirm": "on"},
    )
    assert response.status_code == 404
    assert AccessOrder.objects.get(pk=order.pk).state == "draft"


@pytest.mark.parametrize("person", INSIDERS)
def test_the_customers_own_people_and_kmd_see_the_order(cast, order_in, client, person):
    order = order_in("submitted")
    client.force_login(getattr(cast, person))
    response = client.get(reverse("ordering:order_detail", args=[order.pk]))
    assert response.status_code == 200
    assert order.reference in response.content.decode()


@pytest.mark.parametrize("person", OUTSIDERS)
def test_lists_and_start_pages_never_show_another_customers_orders(cast, order_in, client, person):
    order = order_in("submitted")
    client.force_login(getattr(cast, person))
    for url in [reverse("home"), reverse("ordering:order_list"), reverse("ordering:order_list") + "?state=submitted"]:
        body = client.get(url).content.decode()
        assert order.reference not in body
        assert "Aarhus Kommune" not in body


def test_an_orderer_cannot_order_for_another_customer_by_naming_it(cast, client):
    client.force_login(cast.orderer_b)
    response = client.get(reverse("ordering:order_create") + f"?customer={cast.customer_a.pk}")
    assert response.status_code == 404


def test_pages_need_login(cast, order_in, client):
    order = order_in("draft")
    for url in [reverse("home"), reverse("ordering:order_list"), *order_pages(order)]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
