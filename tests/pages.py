"""The pages as a logged-in person uses them through Django's test client: an order's page, its actions."""

from django.urls import reverse


def order_page(client, user, order):
    """`order`'s page as `user` gets it (the response: a refusal is an answer too)."""
    client.force_login(user)
    return client.get(reverse("ordering:order_detail", args=[order.pk]))


def order_page_text(client, user, order) -> str:
    """`order`'s page as `user` reads it; it must be shown."""
    response = order_page(client, user, order)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def post_action(client, user, order, action: str, data: dict, **kwargs):
    """`user` posts `action` (a transition's name) from `order`'s page with the form's `data`."""
    client.force_login(user)
    return client.post(reverse("ordering:order_transition", args=[order.pk, action]), data, **kwargs)


def post_form(client, user, name: str, data: dict):
    """`user` posts a page's form (`name`: the URL's name, as "ordering:order_create")."""
    client.force_login(user)
    return client.post(reverse(name), data)


def post_new_order(client, cast, *, system, codes, **fields):
    """Orderer A posts the new order form for customer A: `system`, single interfaces `codes`, the other `fields`."""
    return post_form(
        client,
        cast.orderer_a,
        "ordering:order_create",
        {
            "customer": cast.customer_a.pk,
            "external_system": system.pk,
            "purchase_model": "single",
            "interfaces": [cast.interfaces[code].pk for code in codes],
            **fields,
        },
    )
