"""Customers log in with MitID Erhverv through a broker: known by persistent UUID + CVR, refused with a reason."""

import time

import pytest
from django.urls import reverse

from accounts.models import LoginIdentity
from tests.login.conftest import MITID, authorize, log_in, logged_in_user, mitid_person, start

pytestmark = pytest.mark.django_db

UUID_1 = "3c6d9757-1e70-438a-8dd3-5f84398c2e25"
UUID_2 = "74ffcd31-fbaf-4c33-bdac-169f25c1e416"


@pytest.fixture
def aarhus(cast):
    return cast.customer_a


def test_a_customer_employee_logs_in_and_is_known_by_uuid_and_cvr(client, provider, aarhus):
    sub = mitid_person(provider, cvr=aarhus.cvr, uuid=UUID_1.upper(), rid="12345")
    response = log_in(client, sub, next_url=reverse("ordering:order_list"))
    assert response.status_code == 302 and response.url == reverse("ordering:order_list")
    user = logged_in_user(client)
    identity = LoginIdentity.objects.get(user=user)
    assert (identity.scheme, identity.organisation, identity.person, identity.rid) == (
        "mitid_erhverv",
        aarhus.cvr,
        UUID_1,  # lower case, however the broker wrote it
        "12345",
    )
    assert identity.issuer == provider.url
    assert user.get_full_name() == "Birthe Bestiller"
    assert not user.has_usable_password()
    proof = client.session["login_proof"]
    assert proof["scheme"] == "mitid_erhverv" and proof["organisation"] == aarhus.cvr
    assert proof["person"] == UUID_1 and proof["assurance"] == "substantial"
    assert proof["issuer"] == provider.url


def test_a_returning_person_is_the_same_user_even_with_a_new_e_mail(client, provider, aarhus):
    sub = mitid_person(provider, cvr=aarhus.cvr, uuid=UUID_1)
    log_in(client, sub)
    first = logged_in_user(client)
    client.logout()
    mitid_person(provider, cvr=aarhus.cvr, uuid=UUID_1, email="ny@aarhus.dk")
    log_in(client, sub)
    again = logged_in_user(client)
    assert again == first and again.email == "ny@aarhus.dk"
    assert LoginIdentity.objects.count() == 1


def users_of_two_logins(client, provider, aarhus, first: tuple[str, dict], then: tuple[str, dict]):
    """(sub, claims) logs in at Aarhus, logs out, and the second (sub, claims) logs in: the two users they became."""
    users = []
    for sub, claims in (first, then):
        client.logout()
        log_in(client, mitid_person(provider, sub, cvr=aarhus.cvr, **claims))
        users.append(logged_in_user(client))
        assert users[-1] is not None, f"{sub} was not logged in"
    return users


def test_the_same_e_mail_with_another_uuid_is_another_person(client, provider, aarhus):
    first, second = users_of_two_logins(
        client,
        provider,
        aarhus,
        ("p1", {"uuid": UUID_1, "email": "delt@aarhus.dk"}),
        ("p2", {"uuid": UUID_2, "email": "delt@aarhus.dk"}),
    )
    assert second != first


def test_nemlog_ins_one_time_uuid_change_with_the_same_rid_keeps_the_person(client, provider, aarhus):
    first, second = users_of_two_logins(
        client, provider, aarhus, ("p1", {"uuid": UUID_1, "rid": "4711"}), ("p1", {"uuid": UUID_2, "rid": "4711"})
    )
    assert second == first
    assert LoginIdentity.objects.get().person == UUID_2


def test_a_new_uuid_with_another_rid_is_not_taken_for_the_person(client, provider, aarhus):
    first, second = users_of_two_logins(
        client, provider, aarhus, ("p1", {"uuid": UUID_1, "rid": "4711"}), ("p1", {"uuid": UUID_2, "rid": "4712"})
    )
    assert second != first
    assert LoginIdentity.objects.count() == 2


def test_the_same_uuid_under_another_customers_cvr_is_another_person(client, provider, cast):
    log_in(client, mitid_person(provider, "p1", cvr=cast.customer_a.cvr, uuid=UUID_1))
    first = logged_in_user(client)
    client.logout()
    log_in(client, mitid_person(provider, "p1", cvr=cast.customer_b.cvr, uuid=UUID_1))
    assert logged_in_user(client) != first


def refused_with(response, reason: str, security_log, text: str):
    assert response.status_code in (400, 403), response.status_code
    body = response.content.decode()
    assert text in body, body[:2000]
    assert [line["reason"] for line in security_log("login_refused")] == [reason]


def test_a_cvr_of_no_customer_is_refused_with_a_danish_page_and_logged(client, provider, security_log):
    response = log_in(client, mitid_person(provider, cvr="99999999", uuid=UUID_1))
    refused_with(response, "unknown_cvr", security_log, "CVR-nummer 99999999")
    assert logged_in_user(client) is None
    assert not LoginIdentity.objects.exists()


@pytest.mark.parametrize("cvr", ["", "1234567", "123456789", "1234567a"])
def test_a_login_without_a_well_formed_cvr_is_refused(client, provider, cvr, security_log):
    claims = {"cvrNumberIdentifier": cvr} if cvr else {"cvrNumberIdentifier": None}
    response = log_in(client, mitid_person(provider, cvr="", uuid=UUID_1, **claims))
    refused_with(response, "no_cvr" if not cvr else "malformed_cvr", security_log, "ikke med dit private MitID")
    assert logged_in_user(client) is None


def test_a_login_without_a_persistent_uuid_is_refused(client, provider, aarhus, security_log):
    response = log_in(client, mitid_person(provider, cvr=aarhus.cvr, uuid="not-a-uuid"))
    refused_with(response, "no_uuid", security_log, "MitID Erhverv-identitet")
    assert logged_in_user(client) is None


@pytest.mark.parametrize(
    ("minimum", "level", "admitted"),
    [
        ("substantial", "Low", False),
        ("substantial", "Substantial", True),
        ("substantial", "High", True),
        ("high", "Substantial", False),
        ("high", "High", True),
        ("low", "Low", True),
    ],
)
def test_the_assurance_level_must_reach_the_configured_minimum(
    client, provider, aarhus, settings, security_log, minimum, level, admitted
):
    settings.MITID_MIN_ASSURANCE = minimum
    response = log_in(client, mitid_person(provider, cvr=aarhus.cvr, uuid=UUID_1, loa=level))
    if admitted:
        assert logged_in_user(client) is not None
    else:
        refused_with(response, "assurance", security_log, "sikringsniveau")
        assert logged_in_user(client) is None


def test_a_login_that_states_no_assurance_level_is_refused(client, provider, aarhus, security_log):
    response = log_in(client, mitid_person(provider, cvr=aarhus.cvr, uuid=UUID_1, loa=None))
    refused_with(response, "assurance", security_log, "sikringsniveau")


# --- The ID token must be the provider's, for us, and current ------------------------------------------------------


def failed(client, response, security_log, because: str):
    """Refused with the page for a failed login, and the security log says which check refused it."""
    assert response.status_code == 400
    assert "Login lykkedes ikke" in response.content.decode()
    assert logged_in_user(client) is None
    (line,) = security_log("login_refused")
    assert line["reason"] == "failed"
    assert because in line["detail"] + line["error"], line


@pytest.mark.parametrize(
    ("change", "because"),
    [
        pytest.param(lambda c: {**c, "iss": "https://broker.example.net"}, "issuer", id="wrong issuer"),
        pytest.param(lambda c: {**c, "aud": "another-client"}, "audience", id="wrong audience"),
        pytest.param(lambda c: {**c, "exp": int(time.time()) - 61}, "expired", id="expired beyond the leeway"),
        pytest.param(lambda c: {**c, "nbf": int(time.time()) + 120}, "not_yet_valid", id="not yet valid (nbf)"),
        pytest.param(lambda c: {**c, "iat": int(time.time()) + 120}, "not_yet_valid", id="issued in the future"),
        pytest.param(lambda c: {k: v for k, v in c.items() if k != "exp"}, "invalid", id="no expiry"),
    ],
)
def test_an_id_token_that_is_not_for_us_or_not_current_is_refused(
    client, provider, aarhus, security_log, change, because
):
    provider.tamper(change)
    failed(client, log_in(client, mitid_person(provider, cvr=aarhus.cvr, uuid=UUID_1)), security_log, because)
    assert not LoginIdentity.objects.exists()


def test_an_id_token_signed_with_another_key_is_refused_though_it_came_from_the_token_endpoint(
    client, provider, aarhus, security_log
):
    provider.tamper(resign_with_other_key=True)
    failed(client, log_in(client, mitid_person(provider, cvr=aarhus.cvr, uuid=UUID_1)), security_log, "signature")


def test_the_same_token_re_signed_with_the_providers_key_is_accepted(client, provider, aarhus):
    provider.tamper(lambda claims: claims)  # proves the tampering itself leaves a good token good
    log_in(client, mitid_person(provider, cvr=aarhus.cvr, uuid=UUID_1))
    assert logged_in_user(client) is not None


# --- The code belongs to this browser's login, once ----------------------------------------------------------------


def test_a_replayed_callback_is_refused(client, provider, aarhus, security_log):
    callback = authorize(start(client), mitid_person(provider, cvr=aarhus.cvr, uuid=UUID_1))
    assert client.get(callback).status_code == 302
    client.logout()
    failed(client, client.get(callback), security_log, "state")


def test_a_code_used_once_is_refused_in_a_new_login(client, provider, aarhus, security_log):
    sub = mitid_person(provider, cvr=aarhus.cvr, uuid=UUID_1)
    used = authorize(start(client), sub)
    client.get(used)
    client.logout()
    fresh = authorize(start(client), sub)
    state = fresh.split("state=")[1].split("&")[0]
    code = used.split("code=")[1].split("&")[0]
    failed(client, client.get(f"{used.split('?')[0]}?code={code}&state={state}"), security_log, "invalid_grant")


def test_a_callback_with_another_state_is_refused(client, provider, aarhus, security_log):
    callback = authorize(start(client), mitid_person(provider, cvr=aarhus.cvr, uuid=UUID_1))
    path, query = callback.split("?")
    tampered = "&".join(p if not p.startswith("state=") else "state=forged" for p in query.split("&"))
    failed(client, client.get(f"{path}?{tampered}"), security_log, "state")


def test_a_callback_in_another_browser_is_refused(client, provider, aarhus, security_log):
    from django.test import Client

    callback = authorize(start(client), mitid_person(provider, cvr=aarhus.cvr, uuid=UUID_1))
    thief = Client()
    response = thief.get(callback)
    assert response.status_code == 400 and "_auth_user_id" not in thief.session


def test_the_login_sends_a_pkce_challenge_and_its_verifier(client, provider, aarhus):
    log_in(client, mitid_person(provider, cvr=aarhus.cvr, uuid=UUID_1))
    (asked,) = provider.hooks.authorize_requests[:1]
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) >= 43
    assert asked["state"] and asked["response_type"] == "code"
    (exchange,) = provider.hooks.token_requests
    assert len(exchange["code_verifier"]) >= 43


def _verifier(client, value):
    session = client.session
    states = session["socialaccount_states"]
    for state in states.values():
        if value is None:
            state[0].pop("pkce_code_verifier")
        else:
            state[0]["pkce_code_verifier"] = value
    session["socialaccount_states"] = states
    session.save()


@pytest.mark.parametrize("verifier", [None, "x" * 64], ids=["missing verifier", "wrong verifier"])
def test_a_code_exchanged_without_its_pkce_verifier_is_refused(client, provider, aarhus, security_log, verifier):
    authorize_url = start(client)
    _verifier(client, verifier)
    callback = authorize(authorize_url, mitid_person(provider, cvr=aarhus.cvr, uuid=UUID_1))
    failed(client, client.get(callback), security_log, "PKCE")


def test_the_login_page_offers_mitid_erhverv_and_kmd_and_posts_with_csrf(client, provider):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(reverse("openid_connect_login", args=[MITID]), {"process": "login"}).status_code == 403
    body = client.get(reverse("login")).content.decode()
    assert 'name="csrfmiddlewaretoken"' in body.split('action="/login/oidc/mitid-erhverv/"')[1].split("</form>")[0]
    assert "Log ind med MitID Erhverv" in body and "Log ind som KMD-medarbejder" in body
    assert f'action="{reverse("openid_connect_login", args=[MITID])}"' in body
    assert client.get(reverse("openid_connect_login", args=[MITID])).status_code == 405  # never on GET


def test_logging_out_also_ends_the_session_at_the_provider(client, provider, aarhus):
    log_in(client, mitid_person(provider, cvr=aarhus.cvr, uuid=UUID_1))
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response.url.startswith(f"{provider.url}/oauth2/end_session?")
    assert "client_id=opus-adgang-test" in response.url
    assert "post_logout_redirect_uri=http%3A%2F%2Ftestserver%2Flogin%2F" in response.url
    assert logged_in_user(client) is None


def test_a_password_login_logs_out_here_only(client, cast, provider):
    client.force_login(cast.orderer_a)
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response.url == reverse("login")


def test_a_refused_login_logs_out_whoever_was_logged_in_before(client, provider, cast):
    client.force_login(cast.orderer_a, backend="accounts.backends.IdentityProviderBackend")
    session = client.session
    session["login_proof"] = {"scheme": "mitid_erhverv", "organisation": cast.customer_a.cvr}
    session.save()
    response = log_in(client, mitid_person(provider, cvr="99999999", uuid=UUID_1))
    assert response.status_code == 403
    assert logged_in_user(client) is None and "login_proof" not in client.session


def test_allauths_record_keeps_only_issuer_and_subject_also_on_return_logins(client, provider, aarhus):
    from allauth.socialaccount.models import SocialAccount

    sub = mitid_person(provider, cvr=aarhus.cvr, uuid=UUID_1, rid="4711")
    log_in(client, sub)
    client.logout()
    log_in(client, sub)
    (account,) = SocialAccount.objects.all()
    assert account.extra_data == {"iss": provider.url, "sub": sub}


def test_a_token_answer_without_an_id_token_is_refused_though_userinfo_would_say_who(
    client, provider, aarhus, security_log
):
    # allauth then asks the (unsigned) userinfo endpoint who logged in; that must never decide who the person is.
    provider.hooks.drop_id_token = True
    response = log_in(client, mitid_person(provider, cvr=aarhus.cvr, uuid=UUID_1))
    assert response.status_code == 403 and logged_in_user(client) is None
    assert [line["reason"] for line in security_log("login_refused")] == ["no_id_token"]
    assert not LoginIdentity.objects.exists()
