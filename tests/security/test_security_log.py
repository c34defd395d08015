"""CSRF failures, refused actions and looks at another customer's objects each leave one JSON line."""

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from billing.models import Invoice
from billing.services import billing_run

IP = "192.0.2.44"


def page_of(response) -> str:
    """The page without what differs by request anyway: its CSRF token and its own path (the language form's `next`)."""
    return re.sub(r"[A-Za-z0-9]{64}", "", response.content.decode().replace(response.wsgi_request.path, "PATH"))


def assert_one_line(lines: list[dict], *, user: str, path: str) -> dict:
    assert len(lines) == 1, lines
    [line] = lines
    assert (line["user"], line["ip"], line["path"]) == (user, IP, path)
    assert line["time"]
    return line


def test_a_csrf_failure_is_logged(cast, order_in, security_log):
    order = order_in("draft")
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR=IP)
    client.force_login(cast.orderer_a)
    url = reverse("ordering:order_transition", args=[order.pk, "submit"])
    response = client.post(url, {"expected_state": "draft"})
    assert response.status_code == 403
    line = assert_one_line(security_log("csrf_failure"), user="orderer_a", path=url)
    assert "CSRF" in line["reason"]


def test_a_transition_the_users_role_does_not_allow_is_logged_and_an_allowed_one_is_not(
    cast, order_in, client, security_log
):
    order = order_in("submitted")
    client.force_login(cast.orderer_a)
    url = reverse("ordering:order_transition", args=[order.pk, "reject"])
    client.post(url, {"expected_state": "submitted", "comment": "Nej"}, REMOTE_ADDR=IP)
    client.force_login(cast.am_a)
    client.get(reverse("ordering:order_detail", args=[order.pk]), REMOTE_ADDR=IP)
    client.post(url, {"expected_state": "submitted", "comment": "Nej"}, REMOTE_ADDR=IP)
    line = assert_one_line(security_log(), user="orderer_a", path=url)
    assert (line["event"], line["action"], line["order"]) == ("action_refused", "reject", order.pk)


def test_a_money_action_the_users_role_does_not_allow_is_logged(cast, order_in, client, security_log):
    order = order_in("submitted")
    client.force_login(cast.orderer_a)
    url = reverse("billing:quote_adjust", args=[order.pk])
    client.post(url, {"kind": "one_time", "amount": "-100", "reason": "Rabat"}, REMOTE_ADDR=IP)
    line = assert_one_line(security_log("action_refused"), user="orderer_a", path=url)
    assert line["action"] == "quote_adjust"


def test_a_certificate_upload_by_someone_not_an_orderer_is_logged(cast, individual_order, client, security_log):
    order = individual_order("draft", upload=False)
    client.force_login(cast.signatory_a)
    url = reverse("certificates:upload", args=[order.pk])
    client.post(url, {"bundle": SimpleUploadedFile("k.zip", b"PK")}, REMOTE_ADDR=IP)
    line = assert_one_line(security_log("action_refused"), user="signatory_a", path=url)
    assert line["action"] == "certificate_upload"


def test_a_page_the_user_is_not_allowed_is_logged(cast, client, security_log):
    client.force_login(cast.orderer_a)
    url = reverse("billing:run_list")
    assert client.get(url, REMOTE_ADDR=IP).status_code == 403
    assert_one_line(security_log("action_refused"), user="orderer_a", path=url)


def test_another_customers_order_is_a_plain_404_and_is_logged_but_a_missing_one_is_not(
    cast, order_in, client, security_log
):
    theirs = order_in("submitted", customer=cast.customer_b)
    client.force_login(cast.orderer_a)
    url = reverse("ordering:order_detail", args=[theirs.pk])
    response = client.get(url, REMOTE_ADDR=IP)
    missing = client.get(reverse("ordering:order_detail", args=[theirs.pk + 1000]), REMOTE_ADDR=IP)
    assert response.status_code == missing.status_code == 404
    assert page_of(response) == page_of(missing)  # nothing tells the two apart
    line = assert_one_line(security_log(), user="orderer_a", path=url)
    assert (line["event"], line["object"], line["id"]) == ("other_customers_object", "order", theirs.pk)


@pytest.mark.parametrize("person", ["orderer_b", "am_b"])
def test_another_customers_invoice_is_logged_but_a_missing_one_is_not(cast, order_in, client, security_log, person):
    order_in("active")
    billing_run(period=datetime.date.today().replace(day=1), force=True)
    invoice = Invoice.objects.get(customer=cast.customer_a)
    client.force_login(getattr(cast, person))
    url = reverse("billing:invoice_detail", args=[invoice.pk])
    assert client.get(url, REMOTE_ADDR=IP).status_code == 404
    assert client.get(reverse("billing:invoice_detail", args=[invoice.pk + 1000]), REMOTE_ADDR=IP).status_code == 404
    line = assert_one_line(security_log(), user=person, path=url)
    assert (line["event"], line["object"], line["id"]) == ("other_customers_object", "invoice", invoice.pk)


def test_a_username_cannot_forge_a_second_line(cast, client, security_log):
    client.post(reverse("login"), {"username": 'x"}\n{"event": "forged', "password": "p"}, REMOTE_ADDR=IP)
    [line] = security_log()
    assert line["event"] == "login_failed" and line["username"] == 'x"}\n{"event": "forged'
