"""The order's message thread through the API: a read-only list under the order (ordering/thread.py writes it)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ordering import thread

from ..conftest import make_order

PDF = b"%PDF-1.7\n%%EOF\n"


@pytest.fixture
def order_with_thread(cast):
    order = make_order(cast, "submitted")
    thread.order_message_post(order=order, actor=cast.orderer_a, text="Se planen", files=[("plan.pdf", PDF, len(PDF))])
    thread.order_message_post(order=order, actor=cast.am_a, text="Tak, den passer.")
    return order


@pytest.mark.parametrize("person", ["orderer_a", "signatory_a", "am_a", "support"])
def test_everyone_who_sees_the_order_reads_its_thread_oldest_first_without_the_files_content(
    cast, api, order_with_thread, person
):
    response = api(person, scopes=("read",)).get(f"/api/v1/orders/{order_with_thread.pk}/messages/")
    assert response.status_code == 200
    first, second = response.json()["results"]
    assert (first["author"], first["side"], first["text"]) == ("Orderer", "customer", "Se planen")
    assert (second["author"], second["side"], second["text"]) == ("Am", "supplier", "Tak, den passer.")
    (attachment,) = first["attachments"]
    assert set(attachment) == {"id", "filename", "kind", "size", "sha256"}
    assert (attachment["filename"], attachment["kind"], attachment["size"]) == ("plan.pdf", "pdf", len(PDF))
    assert second["attachments"] == []


@pytest.mark.parametrize("person", ["orderer_b", "signatory_b", "am_b", "outsider"])
def test_another_customers_people_get_404_and_nothing_of_the_thread(cast, api, order_with_thread, person):
    response = api(person).get(f"/api/v1/orders/{order_with_thread.pk}/messages/")
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
    assert "Se planen" not in response.content.decode() and "plan.pdf" not in response.content.decode()


def test_the_list_is_read_only(cast, api, order_with_thread):
    response = api("orderer_a").post(
        f"/api/v1/orders/{order_with_thread.pk}/messages/", {"text": "Hej"}, content_type="application/json"
    )
    assert response.status_code == 405
    assert order_with_thread.messages.count() == 2


def test_the_lists_query_count_does_not_grow_with_the_messages(cast, api, order_with_thread, django_assert_num_queries):
    client = api("orderer_a")
    url = f"/api/v1/orders/{order_with_thread.pk}/messages/"
    client.get(url)
    with CaptureQueriesContext(connection) as two:
        client.get(url)
    for i in range(6):
        thread.order_message_post(
            order=order_with_thread, actor=cast.orderer_a, text=str(i), files=[("a.pdf", PDF, len(PDF))] * 2
        )
    with django_assert_num_queries(len(two.captured_queries)):
        assert len(client.get(url).json()["results"]) == 8
