"""Tokens refused by the API, made or revoked leave a line in the security log, with the token's id and first characters,
never its secret."""

import io
import logging

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from accounts.tokens import PREFIX_SHOWN, token_revoke
from audit.models import AuditEvent

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


# --- Tokens made and revoked --------------------------------------------------------------------


def test_a_token_made_and_revoked_on_the_profile_is_logged_with_who_did_it_never_the_secret(
    cast, client, security_log, every_log_line, django_capture_on_commit_callbacks
):
    from .test_profile_tokens import new_token, secret_on

    client.force_login(cast.orderer_a)
    with django_capture_on_commit_callbacks(execute=True):
        secret = secret_on(new_token(client).content.decode())
    token = ApiToken.objects.get(user=cast.orderer_a)
    [made] = security_log("api_token_created")
    assert (made["user"], made["token"], made["token_prefix"], made["kind"]) == (
        "orderer_a",
        token.pk,
        token.prefix,
        "personal",
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/profile/tokens/{token.pk}/revoke/").status_code == 302
    [revoked] = security_log("api_token_revoked")
    assert (revoked["user"], revoked["token"], revoked["token_prefix"], revoked["kind"]) == (
        "orderer_a",
        token.pk,
        token.prefix,
        "personal",
    )
    token.refresh_from_db()
    assert token.revoked_by == cast.orderer_a
    assert secret not in str(security_log()) and secret not in every_log_line()
    # The audit trail has both, by the person, about the token; its parameters name the prefix, never the secret.
    events = AuditEvent.objects.filter(subject_id=str(token.pk), kind__in=["api_token_created", "api_token_revoked"])
    assert [(e.kind, e.actor, e.actor_kind) for e in events] == [
        ("api_token_created", cast.orderer_a, "person"),
        ("api_token_revoked", cast.orderer_a, "person"),
    ]
    assert all(e.params == {"token_prefix": token.prefix, "token_kind": "personal"} for e in events)
    assert not any(secret in str(e.params) + e.comment for e in events)


def test_a_gateway_token_made_by_the_command_is_logged_with_no_user(
    cast, security_log, every_log_line, django_capture_on_commit_callbacks
):
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("create_gateway_token", "gateway-1", stdout=out, stderr=io.StringIO())
    token = ApiToken.objects.get(kind=ApiToken.Kind.GATEWAY)
    [made] = security_log("api_token_created")
    assert (made["user"], made["token"], made["token_prefix"], made["kind"]) == (
        None,
        token.pk,
        token.prefix,
        "gateway",
    )
    assert out.getvalue().strip() not in every_log_line()
    made_by = AuditEvent.objects.get(kind="api_token_created", subject_id=str(token.pk))
    assert (made_by.actor, made_by.actor_kind, made_by.job) == (None, "system", "manage.py create_gateway_token")


def test_a_catalogue_admin_revoking_a_users_token_is_logged_as_the_admin_once(
    cast, security_log, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Group

    from accounts.roles import CATALOGUE_ADMIN_GROUP

    cast.am_a.groups.add(Group.objects.create(name=CATALOGUE_ADMIN_GROUP))
    make_token(cast.orderer_a)
    token = ApiToken.objects.get(user=cast.orderer_a)
    with django_capture_on_commit_callbacks(execute=True):
        token_revoke(token=token, actor=cast.am_a)
        token_revoke(token=token, actor=cast.orderer_a)  # revoked already: nothing changes, nothing is logged
    [revoked] = security_log("api_token_revoked")
    assert (revoked["user"], revoked["token"]) == ("am_a", token.pk)
    token.refresh_from_db()
    assert token.revoked_by == cast.am_a


def test_no_one_else_revokes_a_users_token_and_nothing_is_logged(
    cast, security_log, django_capture_on_commit_callbacks
):
    from core.errors import NotPermitted

    make_token(cast.orderer_b)
    token = ApiToken.objects.get(user=cast.orderer_b)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(NotPermitted):
        token_revoke(token=token, actor=cast.orderer_a)
    token.refresh_from_db()
    assert (token.revoked_at, token.revoked_by) == (None, None)
    assert security_log("api_token_revoked") == []


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
def test_revoking_locks_the_tokens_row(cast):
    from django.test.utils import CaptureQueriesContext

    make_token(cast.orderer_a)
    token = ApiToken.objects.get(user=cast.orderer_a)
    with CaptureQueriesContext(connection) as queries:
        token_revoke(token=token, actor=cast.orderer_a)
    assert any('"accounts_apitoken"' in q["sql"] and "FOR UPDATE" in q["sql"] for q in queries.captured_queries)
