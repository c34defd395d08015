"""Only an orderer at the customer changes a draft, and only while it is one (ordering/services/drafts.py
`draft_edit_refusal`): the edit page, the order page and the API refuse in the same words, before they read
what was sent."""

import pytest
from django.urls import reverse

from ordering import services
from ordering.models import AccessOrder
from tests.api.conftest import bearer, make_token

JSON = "application/json"


def api_patch(person, order: AccessOrder, facts: dict):
    return bearer(make_token(person)).patch(f"/api/v1/orders/{order.pk}/", facts, content_type=JSON)


@pytest.mark.parametrize(
    ("who", "state", "status", "sentence"),
    [
        ("signatory_a", "draft", 403, "Kun en bestiller hos kunden kan ændre bestillingen."),
        ("support", "draft", 403, "Kun en bestiller hos kunden kan ændre bestillingen."),
        ("orderer_a", "submitted", 409, "Kun en kladde kan ændres. Bestillingen er „Indsendt“."),
    ],
)
def test_the_edit_page_and_the_api_refuse_a_draft_edit_in_the_same_words(
    cast, order_in, client, who, state, status, sentence
):
    order = order_in(state)
    person = getattr(cast, who)
    # Facts the order form would refuse too: the refusal comes first, as 403 or 409, not 400.
    answer = api_patch(person, order, {"environment": "nowhere"})
    assert (answer.status_code, answer.json()["detail"]) == (status, sentence)

    client.force_login(person)
    page = client.post(reverse("ordering:order_edit", args=[order.pk]), {"environment": "nowhere"}, follow=True)
    assert page.redirect_chain == [(reverse("ordering:order_detail", args=[order.pk]), 302)]
    assert [str(message) for message in page.context["messages"]] == [sentence]
    assert reverse("ordering:order_edit", args=[order.pk]) not in page.content.decode()  # no "Edit draft"
    assert AccessOrder.objects.get(pk=order.pk).note == order.note


def test_the_service_refuses_as_the_pages_do(cast, order_in):
    draft, submitted = order_in("draft"), order_in("submitted", codes=("medarbejderoplysninger",))
    with pytest.raises(services.NotPermitted) as refused:
        services.order_update_draft(order=draft, actor=cast.signatory_a, facts={})
    assert refused.value.message == "Kun en bestiller hos kunden kan ændre bestillingen."
    with pytest.raises(services.NotAllowedNow) as refused:
        services.order_update_draft(order=submitted, actor=cast.orderer_a, facts={})
    assert refused.value.message == "Kun en kladde kan ændres. Bestillingen er „Indsendt“."


def test_an_orderer_changes_a_draft_through_the_page_and_the_api(cast, order_in, client):
    order = order_in("draft")
    answer = api_patch(cast.orderer_a, order, {"note": "Til HR"})
    assert answer.status_code == 200 and answer.json()["note"] == "Til HR"
    client.force_login(cast.orderer_a)
    detail = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    assert reverse("ordering:order_edit", args=[order.pk]) in detail
    assert client.get(reverse("ordering:order_edit", args=[order.pk])).status_code == 200
