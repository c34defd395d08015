"""The access register KMD's gateway reads: what is listed, when it drops out, who may read it, how it is signed."""

import base64
import dataclasses
import datetime
import json
from io import StringIO

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ApiToken
from accounts.tokens import token_create, token_revoke
from certificates import services as cert_services
from certificates.models import CertificateBundle
from certificates.testing import make_leaf, pem
from certificates.validation import _entry, describe_name
from ordering import services
from ordering.models import AccessOrder, Customer, TestAccess
from registers import jws
from registers.access import access_register, name_attributes
from tests.registers.test_jws import gateway_keys

from ..conftest import make_order

URL = "/api/v1/access-register"
JWKS_URL = "/.well-known/opus-adgang-register-keys.json"
FAR = timezone.localdate() + datetime.timedelta(days=300)  # a token's last day


@pytest.fixture
def gateway_key(db):
    _token, key = token_create(
        user=None, name="KMD gateway", scopes=["register"], last_day=FAR, actor=None, kind="gateway"
    )
    return key


def read(client, key, *, environment="production", **params):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    headers.update({k: params.pop(k) for k in list(params) if k.startswith("HTTP_")})
    query = {"environment": environment, **params} if environment else params
    return client.get(URL, query, **headers)


def listed(client, key, **params) -> dict:
    response = read(client, key, **params)
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def orders_in(register: dict) -> list[str]:
    return [entry["order"] for entry in register["accesses"]]


def at(register_now: datetime.datetime, environment: str = "test") -> dict:
    return json.loads(access_register(environment, now=register_now).body)


# --- What is listed -------------------------------------------------------------------------------


def test_active_and_closure_requested_accesses_are_listed_and_nothing_else(cast, client, gateway_key):
    listed_orders = [
        make_order(cast, "active"),
        make_order(cast, "closure_requested", system=cast.canteen, codes=("engangsydelser",)),
    ]
    # Customer B's orders in every other state, each on interfaces of its own (one open order per interface).
    for state, system, code in [
        ("draft", cast.rostering, "opret-fravaer"),
        ("submitted", cast.rostering, "opret-fravaer"),
        ("awaiting_signature", cast.rostering, "medarbejderoplysninger"),
        ("provisioning", cast.rostering, "moedetidsplaner"),
        ("closed", cast.canteen, "engangsydelser"),
        ("emergency_closed", cast.canteen, "engangsydelser"),
    ]:
        make_order(cast, state, customer=cast.customer_b, system=system, codes=(code,))
    make_order(cast, "active", customer=cast.customer_b, environment="test")

    register = listed(client, gateway_key)

    assert orders_in(register) == [o.reference for o in listed_orders]
    assert list(register) == ["generated_at", "environment", "accesses"]
    assert register["environment"] == "production"


def test_an_entry_names_customer_system_vendor_interfaces_and_since(cast, client, gateway_key):
    order = make_order(cast, "active", codes=("opret-fravaer", "medarbejderoplysninger"))

    (entry,) = listed(client, gateway_key)["accesses"]

    assert entry == {
        "order": order.reference,
        "customer": {"name": "Aarhus Kommune", "cvr": "55133018"},
        "external_system": {"id": cast.rostering.pk, "name": "VagtPlan"},
        "vendor": {"name": "Vagtdata A/S", "cvr": "31415926"},
        "interfaces": ["medarbejderoplysninger", "opret-fravaer"],
        "environment": "production",
        "since": timezone.localdate().isoformat(),
        "ends_on": None,
        "integration_type": "standard",
        # A standard integration's certificate was agreed between KMD and the vendor, not uploaded here.
        "certificates": None,
    }


def test_a_package_order_lists_the_packages_interfaces(cast, client, gateway_key):
    make_order(cast, "active", purchase_model="package", package=cast.package, codes=())

    (entry,) = listed(client, gateway_key)["accesses"]

    assert entry["interfaces"] == ["moedetidsplaner", "opret-fravaer"]


def test_an_individual_integration_lists_its_system_certificate(
    cast, client, gateway_key, individual_order, vendor_leaf, pki
):
    order = individual_order("active")

    (entry,) = listed(client, gateway_key, environment="test")["accesses"]

    (certificate,) = entry["certificates"]
    parts = describe_name(_entry(vendor_leaf, "leaf").subject)
    assert entry["order"] == order.reference and entry["integration_type"] == "individual"
    assert certificate["sha256"] == vendor_leaf.fingerprint(hashes.SHA256()).hex()
    assert certificate["subject_uuid"] == parts.uuid and certificate["subject_serial_number"].endswith(parts.uuid)
    assert certificate["subject_cn"] == parts.holder == "Fraværsoverblik (systemcertifikat)"
    assert certificate["issuer"] == pki.issuing.subject.rfc4514_string()
    assert certificate["not_after"] == vendor_leaf.not_valid_after_utc.isoformat().replace("+00:00", "Z")
    assert certificate["not_before"] == vendor_leaf.not_valid_before_utc.isoformat().replace("+00:00", "Z")
    assert certificate["role"] == "current" and certificate["accepted_until"] == certificate["not_after"]


def test_the_fast_name_split_reads_names_as_describe_name_does(pki):
    for organisation, common_name in [
        ("Lokal IT ApS", "Fraværsoverblik (systemcertifikat)"),
        ('A, B \\ "C"+D; <E>', " #Leading and trailing space "),
        ("Ærø Øl & Å", "CN=with=equals,comma"),
    ]:
        subject = _entry(make_leaf(pki, organisation=organisation, common_name=common_name), "leaf").subject
        parts, names = describe_name(subject), name_attributes(subject)
        assert (names["CN"], names["O"]) == (parts.holder, parts.organisation) == (common_name, organisation)
        assert names["serialNumber"].rsplit(":", 1)[-1] == parts.uuid


# --- Rollover, expiry and closing dates: dropping out by the clock ----------------------------------


def rolled_over(cast, individual_order, pki):
    order = individual_order("active")
    new_leaf = make_leaf(pki, cvr="31415926", common_name="Fraværsoverblik 2027")
    cert_services.certificate_upload(
        order=order, actor=cast.orderer_a, data=pem(new_leaf, pki.issuing), filename="ny.pem"
    )
    return order, new_leaf


def test_a_waiting_rollover_is_not_listed_until_the_account_manager_puts_it_into_use(cast, individual_order, pki):
    _order, new_leaf = rolled_over(cast, individual_order, pki)

    (entry,) = at(timezone.now())["accesses"]

    assert [c["role"] for c in entry["certificates"]] == ["current"]
    assert entry["certificates"][0]["sha256"] != new_leaf.fingerprint(hashes.SHA256()).hex()


def test_after_a_rollover_old_and_new_are_listed_until_the_overlap_ends_then_the_old_drops_out(
    cast, individual_order, pki, vendor_leaf, settings
):
    settings.ACCESS_REGISTER_ROLLOVER_OVERLAP_DAYS = 14
    order, new_leaf = rolled_over(cast, individual_order, pki)
    new = cert_services.certificate_rollover_confirm(order=order, actor=cast.am_a)
    end = new.confirmed_at + datetime.timedelta(days=14)
    old_sha, new_sha = (c.fingerprint(hashes.SHA256()).hex() for c in (vendor_leaf, new_leaf))

    (entry,) = at(end - datetime.timedelta(seconds=1))["accesses"]
    assert [(c["role"], c["sha256"]) for c in entry["certificates"]] == [("current", new_sha), ("previous", old_sha)]
    assert entry["certificates"][1]["accepted_until"] == end.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")

    (entry,) = at(end)["accesses"]
    assert [(c["role"], c["sha256"]) for c in entry["certificates"]] == [("current", new_sha)]


def test_the_overlap_window_is_a_setting(cast, individual_order, pki, settings):
    order, _ = rolled_over(cast, individual_order, pki)
    new = cert_services.certificate_rollover_confirm(order=order, actor=cast.am_a)
    settings.ACCESS_REGISTER_ROLLOVER_OVERLAP_DAYS = 2

    assert len(at(new.confirmed_at + datetime.timedelta(days=2, seconds=-1))["accesses"][0]["certificates"]) == 2
    assert len(at(new.confirmed_at + datetime.timedelta(days=2))["accesses"][0]["certificates"]) == 1


def test_a_chain_replaced_while_waiting_is_never_listed(cast, individual_order, pki):
    order, first_new = rolled_over(cast, individual_order, pki)
    second_new = make_leaf(pki, cvr="31415926", common_name="Fraværsoverblik 2028")
    cert_services.certificate_upload(
        order=order, actor=cast.orderer_a, data=pem(second_new, pki.issuing), filename="nyere.pem"
    )
    cert_services.certificate_rollover_confirm(order=order, actor=cast.am_a)

    shas = {c["sha256"] for c in at(timezone.now())["accesses"][0]["certificates"]}

    assert first_new.fingerprint(hashes.SHA256()).hex() not in shas
    assert second_new.fingerprint(hashes.SHA256()).hex() in shas and len(shas) == 2


def test_an_expired_certificate_is_not_listed(cast, individual_order, vendor_leaf):
    individual_order("active")
    not_after = vendor_leaf.not_valid_after_utc

    assert len(at(not_after - datetime.timedelta(seconds=1))["accesses"][0]["certificates"]) == 1
    (entry,) = at(not_after)["accesses"]
    assert entry["certificates"] == []  # still established, but no certificate the gateway may accept


def test_a_scheduled_closure_drops_the_access_at_midnight_of_its_date(cast):
    order = make_order(cast, "active")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    services.order_schedule_closure(order=order, actor=cast.am_a, on=tomorrow)
    midnight = timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time.min))

    (entry,) = at(midnight - datetime.timedelta(seconds=1), "production")["accesses"]
    assert entry["ends_on"] == tomorrow.isoformat()
    # Gone at midnight although the daily task closes it only at 00:15.
    assert at(midnight, "production")["accesses"] == []
    delta = json.loads(access_register("production", since=midnight - datetime.timedelta(hours=1), now=midnight).body)
    assert delta["removed"] == [{"order": order.reference, "reason": "closed"}]


def test_a_start_up_packages_test_access_drops_out_when_its_term_ends(cast, individual_order):
    order = individual_order("active", startup_package=True)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    TestAccess.objects.filter(order=order).update(ends_on=tomorrow)
    midnight = timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time.min))

    (entry,) = at(midnight - datetime.timedelta(seconds=1))["accesses"]
    assert entry["ends_on"] == tomorrow.isoformat()
    assert at(midnight)["accesses"] == []
    delta = json.loads(access_register("test", since=midnight - datetime.timedelta(hours=1), now=midnight).body)
    assert delta["removed"] == [{"order": order.reference, "reason": "test_access_expired"}]


# --- Closing: gone for the next reader -----------------------------------------------------------


def test_emergency_closure_is_gone_from_the_register_as_soon_as_the_service_returns(cast, client, gateway_key):
    order = make_order(cast, "active")
    assert orders_in(listed(client, gateway_key)) == [order.reference]

    services.order_emergency_close(order=order, actor=cast.support, reason="Sikkerhedsbrud hos leverandøren")

    assert listed(client, gateway_key)["accesses"] == []


def test_closing_normally_removes_the_access(cast, client, gateway_key):
    order = make_order(cast, "closure_requested")
    assert orders_in(listed(client, gateway_key)) == [order.reference]

    services.order_close(order=order, actor=cast.am_a)

    assert listed(client, gateway_key)["accesses"] == []


# --- Who may read it ---------------------------------------------------------------------------


def test_without_a_token_the_answer_is_401_with_www_authenticate(client, db):
    response = read(client, None)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert json.loads(response.content)["code"] == "not_authenticated"


def test_an_unknown_or_revoked_token_is_401(client, cast, gateway_key):
    assert read(client, "oa_" + "x" * 40).status_code == 401
    token = ApiToken.objects.get(kind="gateway")
    token_revoke(token=token, actor=_superuser())
    assert read(client, gateway_key).status_code == 401


def _superuser():
    from accounts.models import User

    return User.objects.create_superuser("root", "root@example.test", "a-long-test-password")


def test_a_personal_token_is_403_even_for_kmd_staff(client, cast):
    _token, key = token_create(user=cast.support, name="mine", scopes=["read"], last_day=FAR, actor=cast.support)

    response = read(client, key)

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert json.loads(response.content)["code"] == "not_permitted"


def test_the_environment_must_be_named(client, gateway_key):
    response = read(client, gateway_key, environment=None)

    assert response.status_code == 400
    assert json.loads(response.content)["errors"].keys() == {"environment"}
    assert read(client, gateway_key, environment="staging").status_code == 400


@pytest.mark.parametrize("since", ["yesterday", "2026-05-01", "2026-05-01T08:00:00"])
def test_since_must_be_an_rfc3339_time_with_offset(client, gateway_key, since):
    assert read(client, gateway_key, since=since).status_code == 400


@pytest.mark.parametrize(
    "since", ["5426-10-18T16:37:44+20:37", "2026-05-01T08:00:00-23:59", "0001-01-02T00:00:00+01:00"]
)
def test_since_with_any_offset_rfc3339_allows_is_answered(client, gateway_key, since):
    # PostgreSQL takes offsets up to 15:59 only; found by schemathesis as a 500 before `since` went to UTC.
    assert read(client, gateway_key, since=since).status_code == 200


@pytest.mark.parametrize("since", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+01:00"])
def test_since_outside_the_instants_python_has_is_refused(client, gateway_key, since):
    assert read(client, gateway_key, since=since).status_code == 400


@pytest.mark.parametrize(
    "since",
    [
        "2026-W48-1T00:00:00Z",  # an ISO 8601 week date
        "20261129T020000Z",  # ISO 8601's basic format
        "2026-11-29 02:00:00Z",  # a space for the T
        " 2026-11-29T02:00:00Z",
        "2026-11-29T02:00:00Z ",
        "2026-11-29T02:00:00Z\n",
        "2026-11-29T02:00Z",  # no seconds
        "2026-11-29T02:00:00.Z",  # a point without a fraction
        "2026-11-29T02:00:00+0100",  # an offset without its colon
        "2026-11-29T02:00:00+01",
        "2026-11-29T02:00:00+01:60",
        "2026-11-29T02:00:00+24:00",
        "2026-11-29T02:00:00ZZ",
        "2026-11-29T02:00:00Z+01:00",
        "２０２６-11-29T02:00:00Z",  # digits, but not ASCII ones
        "2026-13-01T00:00:00Z",
        "2026-11-31T00:00:00Z",
        "2026-11-29T24:00:00Z",
        "2026-11-29T23:59:61Z",
    ],
)
def test_since_refuses_what_is_not_an_rfc3339_date_time(client, gateway_key, since):
    response = read(client, gateway_key, since=since)

    assert response.status_code == 400
    assert json.loads(response.content)["errors"].keys() == {"since"}


@pytest.mark.parametrize(
    "since, utc",
    [
        ("2026-11-29T02:00:00Z", "2026-11-29T02:00:00+00:00"),
        ("2026-11-29t02:00:00z", "2026-11-29T02:00:00+00:00"),
        ("2026-11-29T03:00:00+01:00", "2026-11-29T02:00:00+00:00"),
        ("2026-11-29T02:00:00.1234567Z", "2026-11-29T02:00:00.123456+00:00"),
        ("2026-11-28T02:01:00-23:59", "2026-11-29T02:00:00+00:00"),
        ("2016-12-31T23:59:60Z", "2016-12-31T23:59:59+00:00"),  # a leap second: the second before it
        ("1969-12-31T23:59:59Z", "1970-01-01T00:00:00+00:00"),  # before 1970: from 1970
    ],
)
def test_since_takes_rfc3339_date_times_as_instants_in_utc(client, gateway_key, since, utc):
    from registers.views import _parse_rfc3339

    assert _parse_rfc3339(since).isoformat() == utc
    assert read(client, gateway_key, since=since).status_code == 200


def test_a_since_in_the_future_is_a_delta_from_now(cast, client, gateway_key):
    make_order(cast, "active")

    delta = listed(client, gateway_key, since="9999-12-31T23:59:59Z")

    assert delta["since"] == delta["generated_at"]
    assert delta["removed"] == []


def test_since_a_second_from_now_answers_as_since_now(cast):
    make_order(cast, "active")
    now = timezone.now()

    at_now = access_register("production", since=now, now=now)
    a_second_later = access_register("production", since=now + datetime.timedelta(seconds=1), now=now)

    assert a_second_later.body == at_now.body
    assert json.loads(at_now.body)["since"] == json.loads(at_now.body)["generated_at"]


def test_since_a_second_from_now_is_answered_through_the_endpoint(cast, client, gateway_key):
    make_order(cast, "active")
    soon = (timezone.now() + datetime.timedelta(seconds=1)).astimezone(datetime.UTC)

    assert read(client, gateway_key, since=soon.isoformat()).status_code == 200
    assert read(client, gateway_key, since=soon.strftime("%Y-%m-%dT%H:%M:%SZ")).status_code == 200


# --- Signature, ETag, keys --------------------------------------------------------------------------


def test_the_register_may_be_kept_privately_but_only_after_asking_again(cast, client, gateway_key):
    make_order(cast, "active")

    first = read(client, gateway_key)
    again = read(client, gateway_key, HTTP_IF_NONE_MATCH=first["ETag"])

    assert first.status_code == 200 and again.status_code == 304
    for response in (first, again):
        assert response["Cache-Control"] == "private, no-cache"
        assert "Authorization" in response["Vary"]
        assert response["ETag"] == first["ETag"]


def test_the_signature_verifies_with_the_published_key(cast, client, gateway_key):
    make_order(cast, "active")
    response = read(client, gateway_key)
    jwks = json.loads(client.get(JWKS_URL).content)

    keys = {k["kid"]: Ed25519PublicKey.from_public_bytes(jws.b64url_decode(k["x"])) for k in jwks["keys"]}
    signature = response["JWS-Signature"]
    header = json.loads(jws.b64url_decode(signature.split(".")[0]))
    assert header == {"alg": "EdDSA", "kid": jwks["keys"][0]["kid"]}
    assert jwks["keys"][0]["kty"] == "OKP" and jwks["keys"][0]["crv"] == "Ed25519"
    assert jws.verify_detached(signature, response.content, keys)
    assert not jws.verify_detached(signature, response.content.replace(b"Aarhus", b"Aarhuz"), keys)


def test_a_previous_public_key_stays_published_for_rotation(client, settings, db):
    old = Ed25519PrivateKey.generate().public_key()
    settings.ACCESS_REGISTER_PREVIOUS_PUBLIC_KEYS = [jws.b64url(old.public_bytes(Encoding.Raw, jws.PublicFormat.Raw))]

    kids = [k["kid"] for k in json.loads(client.get(JWKS_URL).content)["keys"]]

    assert kids == [jws.key_id(jws.signing_key().public_key()), jws.key_id(old)]


def test_unchanged_register_answers_304_to_its_etag_and_a_change_makes_a_new_one(cast, client, gateway_key):
    order = make_order(cast, "active")
    first = read(client, gateway_key)
    second = read(client, gateway_key)
    assert first["ETag"] == second["ETag"] and first["ETag"].startswith('"')

    unchanged = read(client, gateway_key, HTTP_IF_NONE_MATCH=first["ETag"])
    assert unchanged.status_code == 304 and unchanged.content == b""

    services.order_close(order=order, actor=cast.am_a)
    changed = read(client, gateway_key, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]


def test_after_a_key_switch_the_unchanged_register_is_sent_again_signed_by_the_new_key(
    cast, client, gateway_key, settings
):
    """A 304 would leave the gateway with its copy signed by the old key, which it is about to retire."""
    make_order(cast, "active")
    before = read(client, gateway_key)
    settings.ACCESS_REGISTER_SIGNING_KEY = base64.b64encode(bytes(range(32))).decode()
    after = read(client, gateway_key, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    new_kid = jws.key_id(jws.signing_key().public_key())
    assert json.loads(jws.b64url_decode(after["JWS-Signature"].split(".")[0]))["kid"] == new_kid


def test_since_gives_what_was_added_changed_and_removed(cast, client, gateway_key):
    kept = make_order(cast, "active")
    closed = make_order(cast, "active", system=cast.canteen, codes=("engangsydelser",))
    emergency = make_order(cast, "active", customer=cast.customer_b)
    an_hour_ago = timezone.now() - datetime.timedelta(hours=1)
    AccessOrder.objects.update(updated_at=an_hour_ago)  # as if established long before the gateway's last read
    last_read = timezone.now() - datetime.timedelta(minutes=30)

    added = make_order(cast, "active", customer=cast.customer_b, system=cast.canteen, codes=("engangsydelser",))
    services.order_close(order=closed, actor=cast.am_a)
    services.order_emergency_close(order=emergency, actor=cast.support, reason="Sikkerhedsbrud")
    delta = listed(client, gateway_key, since=last_read.isoformat())

    assert list(delta) == ["generated_at", "environment", "since", "accesses", "removed"]
    assert orders_in(delta) == [added.reference]
    assert delta["removed"] == [
        {"order": closed.reference, "reason": "closed"},
        {"order": emergency.reference, "reason": "emergency_closed"},
    ]
    assert kept.reference in orders_in(listed(client, gateway_key))


def test_since_names_an_access_whose_old_certificate_dropped_out(cast, individual_order, pki, settings):
    settings.ACCESS_REGISTER_ROLLOVER_OVERLAP_DAYS = 14
    order, _ = rolled_over(cast, individual_order, pki)
    new = cert_services.certificate_rollover_confirm(order=order, actor=cast.am_a)
    end = new.confirmed_at + datetime.timedelta(days=14)

    quiet = json.loads(
        access_register("test", since=end - datetime.timedelta(hours=2), now=end - datetime.timedelta(hours=1)).body
    )
    dropped = json.loads(access_register("test", since=end - datetime.timedelta(hours=1), now=end).body)

    assert quiet["accesses"] == [] and quiet["removed"] == []
    (entry,) = dropped["accesses"]
    assert entry["order"] == order.reference and [c["role"] for c in entry["certificates"]] == ["current"]


def test_the_register_costs_the_same_queries_for_one_access_and_for_many(
    cast, client, gateway_key, individual_order, pki
):
    order = individual_order("active")
    read(client, gateway_key)  # the token's first use is written down; later reads within a minute are not

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert read(client, gateway_key, environment="test").status_code == 200
        return len(captured)

    few = queries()
    make_order(cast, "active", environment="test", purchase_model="package", package=cast.package, codes=())
    make_order(cast, "active", environment="test", customer=cast.customer_b, codes=("medarbejderoplysninger",))
    make_order(
        cast,
        "closure_requested",
        environment="test",
        customer=cast.customer_b,
        system=cast.canteen,
        codes=("engangsydelser",),
    )
    new_leaf = make_leaf(pki, cvr="31415926", common_name="Fraværsoverblik 2027")
    cert_services.certificate_upload(
        order=order, actor=cast.orderer_a, data=pem(new_leaf, pki.issuing), filename="n.pem"
    )
    cert_services.certificate_rollover_confirm(order=order, actor=cast.am_a)

    assert len(listed(client, gateway_key, environment="test")["accesses"]) == 4
    assert queries() == few


def test_export_writes_the_same_bytes_and_signature_as_the_endpoint(cast, client, gateway_key, tmp_path, monkeypatch):
    make_order(cast, "active")
    moment = timezone.now()
    monkeypatch.setattr("registers.access.timezone.now", lambda: moment)
    response = read(client, gateway_key)

    call_command(
        "export_access_register",
        "--environment",
        "production",
        "--output",
        str(tmp_path / "register.json"),
        "--signature-file",
        str(tmp_path / "register.jws"),
        stdout=StringIO(),
    )

    assert (tmp_path / "register.json").read_bytes() == response.content
    assert (tmp_path / "register.jws").read_text().strip() == response["JWS-Signature"]


def test_the_register_is_in_the_openapi_schema_with_its_own_token(db):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)

    operation = schema["paths"]["/api/v1/access-register"]["get"]
    assert operation["security"] == [{"gatewayToken": []}]
    assert schema["components"]["securitySchemes"]["gatewayToken"]["scheme"] == "bearer"
    assert {"200", "304", "401", "403"} <= set(operation["responses"])


# --- The JWS code, checked against RFC 8037 ---------------------------------------------------------

RFC8037_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"


def test_signing_matches_rfc_8037_appendix_a4():
    key = Ed25519PrivateKey.from_private_bytes(jws.b64url_decode(RFC8037_D))

    detached = jws.sign_detached(b"Example of Ed25519 signing", key)

    assert jws.public_x(key.public_key()) == RFC8037_X
    assert detached == (
        "eyJhbGciOiJFZERTQSJ9..hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
    )


def test_key_id_is_the_rfc_7638_thumbprint_of_rfc_8037_appendix_a3():
    key = Ed25519PublicKey.from_public_bytes(jws.b64url_decode(RFC8037_X))

    assert jws.key_id(key) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_superseded_bundle_from_a_draft_is_not_a_rollover(cast, individual_order, good_bundle):
    order = individual_order("draft")
    cert_services.certificate_upload(order=order, actor=cast.orderer_a, data=good_bundle, filename="igen.zip")
    assert CertificateBundle.objects.filter(order=order, status="superseded").count() == 1
    who = {"orderer": cast.orderer_a, "signatory": cast.signatory_a, "am": cast.am_a}
    from ..conftest import PATH

    for reached, service, role, kwargs in PATH:
        order = service(order=order, actor=who[role], **kwargs)
        if reached == "active":
            break

    assert len(at(timezone.now())["accesses"][0]["certificates"]) == 1


def test_without_a_signing_key_nothing_unsigned_is_served(cast, client, gateway_key, settings):
    make_order(cast, "active")
    settings.ACCESS_REGISTER_SIGNING_KEY = ""

    response = read(client, gateway_key)

    assert response.status_code == 503
    assert json.loads(response.content)["code"] == "not_configured"
    keys = client.get(JWKS_URL)  # the keys answer the same problem
    assert keys.status_code == 503 and json.loads(keys.content) == json.loads(response.content)


# --- The delta's look-back, names, bytes --------------------------------------------------------


def test_a_delta_looks_back_exactly_five_minutes_before_since(cast):
    just_outside = make_order(cast, "active")
    just_inside = make_order(cast, "active", system=cast.canteen, codes=("engangsydelser",))
    since = timezone.now() + datetime.timedelta(hours=1)  # every other timestamp of the orders is long before
    AccessOrder.objects.filter(pk=just_outside.pk).update(updated_at=since - datetime.timedelta(minutes=5))
    AccessOrder.objects.filter(pk=just_inside.pk).update(
        updated_at=since - datetime.timedelta(minutes=5) + datetime.timedelta(microseconds=1)
    )

    delta = json.loads(access_register("production", since=since, now=since).body)

    assert orders_in(delta) == [just_inside.reference]


def test_a_delta_names_an_access_closed_within_the_look_back_as_removed(cast):
    inside = make_order(cast, "active")
    outside = make_order(cast, "active", system=cast.canteen, codes=("engangsydelser",))
    for order in (inside, outside):
        services.order_close(order=order, actor=cast.am_a)
    since = timezone.now() + datetime.timedelta(hours=1)
    AccessOrder.objects.filter(pk=inside.pk).update(updated_at=since - datetime.timedelta(minutes=4, seconds=59))
    AccessOrder.objects.filter(pk=outside.pk).update(updated_at=since - datetime.timedelta(minutes=5))

    delta = json.loads(access_register("production", since=since, now=since).body)

    assert delta["removed"] == [{"order": inside.reference, "reason": "closed"}]


def test_the_fast_name_split_undoes_rfc_4514_escapes_and_keeps_each_attributes_first_value():
    name = r"CN=Hansen\, Jens,OU=Løn,OU=HR,O=Vagt\2bData A/S,serialNumber=UI:DK-O:G:9b2c-11ef"

    assert name_attributes(name) == {
        "CN": "Hansen, Jens",
        "OU": "Løn",
        "O": "Vagt+Data A/S",
        "serialNumber": "UI:DK-O:G:9b2c-11ef",
    }


def test_the_register_is_utf8_json_with_the_names_as_written(cast):
    Customer.objects.filter(pk=cast.customer_a.pk).update(name="Ærø Kommune")
    make_order(cast, "active")

    register = access_register("production")

    assert '"name":"Ærø Kommune"'.encode() in register.body
    assert json.loads(register.body)["accesses"][0]["customer"]["name"] == "Ærø Kommune"


def test_a_signed_register_cannot_be_changed_after_it_is_made(cast):
    register = access_register("production")

    with pytest.raises(dataclasses.FrozenInstanceError):
        register.body = b"{}"
    assert jws.verify_detached(register.signature, register.body, gateway_keys())
