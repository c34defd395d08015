"""Tokens refused by the API leave a line in the security log, with the token's id and first characters, never its secret."""

import logging

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from accounts.tokens import PREFIX_SHOWN, token_revoke

from .conftest import make_token

ORDERS = "/api/v1/orders/"
IP = "192.0.2.44"


def client_with(secret: str) -> Client:
    return Client(REMOTE_ADDR=IP, headers={"Authorization": f"Bearer {secret}"})


@pytest.fixture
def every_log_line(caplog):
    """All that any logger wrote, as text, including what each line carries besides its message."""
    caplog.set_level(logging.DEBUG)
    return lambda: "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)


def test_an_unknown_token_is_logged_by_its_first_characters_only(cast, security_log, every_log_line):
    secret = "oa_" + "u" * 40
    assert client_with(secret).get(ORDERS).status_code == 401
    [line] = security_log("api_token_invalid")
    assert (line["ip"], line["path"], line["method"]) == (IP, ORDERS, "GET")
    assert line["token_prefix"] == secret[:PREFIX_SHOWN] == "oa_uuuuuuu"
    assert secret not in str(security_log()) and secret not in every_log_line()


@pytest.mark.parametrize("how", ["revoked", "expired"])
def test_a_revoked_or_expired_token_is_logged_by_the_prefix_its_owner_sees(cast, security_log, every_log_line, how):
    secret = make_token(cast.orderer_a)
    token = ApiToken.objects.get(user=cast.orderer_a)
    if how == "revoked":
        token_revoke(token=token, actor=cast.orderer_a)
    else:
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now())
    assert client_with(secret).get(ORDERS).status_code == 401
    [line] = security_log("api_token_invalid")
    assert line["token_prefix"] == token.prefix
    assert secret not in str(security_log()) and secret not in every_log_line()


def test_a_token_without_the_scope_is_logged_with_its_id_and_prefix(cast, order_in, security_log, every_log_line):
    order = order_in("draft")
    secret = make_token(cast.orderer_a, ("read",))
    token = ApiToken.objects.get(user=cast.orderer_a)
    response = client_with(secret).post(f"/api/v1/orders/{order.pk}/submit/", {}, content_type="application/json")
    assert response.status_code == 403
    [line] = security_log("api_token_not_allowed")
    assert (line["user"], line["token"], line["token_prefix"]) == ("orderer_a", token.pk, token.prefix)
    assert (line["reason"], line["scope"]) == ("scope missing", "order")
    assert secret not in str(security_log()) and secret not in every_log_line()


def test_a_gateway_token_on_the_personal_endpoints_is_logged(cast, gateway_token, security_log, every_log_line):
    token = ApiToken.objects.get(kind=ApiToken.Kind.GATEWAY)
    assert client_with(gateway_token).get(ORDERS).status_code == 403
    [line] = security_log("api_token_not_allowed")
    assert (line["user"], line["token"], line["token_prefix"], line["reason"]) == (
        None,
        token.pk,
        token.prefix,
        "gateway token",
    )
    assert gateway_token not in str(security_log()) and gateway_token not in every_log_line()


def test_another_customers_order_through_the_api_is_logged_with_the_token(cast, order_in, security_log):
    order = order_in("draft")
    secret = make_token(cast.orderer_b)
    token = ApiToken.objects.get(user=cast.orderer_b)
    assert client_with(secret).get(f"/api/v1/orders/{order.pk}/").status_code == 404
    [line] = security_log("other_customers_object")
    assert (line["user"], line["id"], line["via"]) == ("orderer_b", order.pk, "api")
    assert (line["token"], line["token_prefix"]) == (token.pk, token.prefix)
    assert secret not in str(security_log())


def test_a_valid_token_used_as_allowed_writes_no_line(cast, order_in, security_log):
    order = order_in("draft")
    assert client_with(make_token(cast.orderer_a)).get(f"/api/v1/orders/{order.pk}/").status_code == 200
    assert security_log() == []


REGISTER = "/api/v1/access-register?environment=production"


def test_an_unknown_token_on_the_access_register_is_logged_by_its_first_characters_only(
    cast, security_log, every_log_line
):
    secret = "oa_" + "g" * 40
    assert client_with(secret).get(REGISTER).status_code == 401
    [line] = security_log("api_token_invalid")
    assert line["token_prefix"] == secret[:PREFIX_SHOWN] and line["path"] == "/api/v1/access-register"
    assert secret not in str(security_log()) and secret not in every_log_line()


def test_a_personal_token_on_the_access_register_is_logged_with_its_id_and_prefix(cast, security_log, every_log_line):
    secret = make_token(cast.support)
    token = ApiToken.objects.get(user=cast.support)
    assert client_with(secret).get(REGISTER).status_code == 403
    [line] = security_log("api_token_not_allowed")
    assert (line["token"], line["token_prefix"]) == (token.pk, token.prefix)
    assert secret not in str(security_log()) and secret not in every_log_line()


def test_the_gateway_reading_the_register_writes_no_line(cast, gateway_token, security_log):
    assert client_with(gateway_token).get(REGISTER).status_code == 200
    assert security_log() == []
