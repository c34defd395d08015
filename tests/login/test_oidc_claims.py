"""The pure core of the logins (accounts/oidc.py): ID token checks at their exact edges, and each broker's claims."""

import json
from datetime import UTC, datetime

import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric import rsa

from accounts import oidc

NOW = datetime(2026, 12, 6, 13, 3, tzinfo=UTC)
T = int(NOW.timestamp())
ISSUER, AUDIENCE = "https://broker.example", "opus-adgang"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(key, kid: str | None = "k1") -> dict:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**public, "use": "sig", **({"kid": kid} if kid else {})}


JWKS = {"keys": [jwk(KEY)]}


def token(key=KEY, *, kid: str | None = "k1", algorithm="RS256", **claims) -> str:
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "s", "iat": T, "exp": T + 300, **claims}
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, key, algorithm=algorithm, headers={"kid": kid} if kid else {})


def verify(value: str, jwks=JWKS) -> dict:
    with time_machine.travel(NOW, tick=False):
        return oidc.verify_id_token(value, jwks=jwks, issuer=ISSUER, audience=AUDIENCE, leeway=60)


def refused(value: str, jwks=JWKS) -> str:
    with pytest.raises(oidc.TokenRefused) as caught:
        verify(value, jwks)
    return caught.value.code


def test_a_good_token_gives_its_claims():
    assert verify(token(cvr="12345678"))["cvr"] == "12345678"


def test_expiry_is_refused_at_exactly_the_leeway_and_accepted_a_second_before():
    assert refused(token(exp=T - 60)) == "expired"
    assert verify(token(exp=T - 59))["sub"] == "s"


def test_not_before_is_accepted_at_exactly_the_leeway_and_refused_a_second_after():
    assert verify(token(nbf=T + 60))["sub"] == "s"
    assert refused(token(nbf=T + 61)) == "not_yet_valid"


def test_issued_at_in_the_future_is_accepted_within_the_leeway_and_refused_a_second_after():
    assert verify(token(iat=T + 60))["sub"] == "s"
    assert refused(token(iat=T + 61)) == "not_yet_valid"


@pytest.mark.parametrize("missing", ["iss", "aud", "exp", "iat", "sub"])
def test_each_required_claim_must_be_there(missing):
    assert refused(token(**{missing: None})) in {"invalid", "issuer", "audience"}


def test_issuer_and_audience_must_be_exactly_ours():
    assert refused(token(iss=ISSUER + "/")) == "issuer"
    assert refused(token(aud="opus-adgang-2")) == "audience"
    assert verify(token(aud=["other", AUDIENCE]))["sub"] == "s"  # one of several audiences


def test_a_signature_by_another_key_is_refused_even_under_a_known_kid():
    assert refused(token(OTHER)) == "signature"


def test_a_token_without_kid_is_tried_against_each_published_key():
    jwks = {"keys": [jwk(OTHER, None), jwk(KEY, None)]}
    assert verify(token(kid=None), jwks)["sub"] == "s"
    assert refused(token(OTHER, kid=None), {"keys": [jwk(KEY, None)]}) == "signature"


def test_an_unknown_kid_and_an_empty_key_set_are_refused():
    assert refused(token(kid="k2")) == "unknown_key"
    assert refused(token(), {"keys": []}) == "unknown_key"
    assert refused(token(), {"keys": [{**jwk(KEY), "use": "enc"}]}) == "unknown_key"


def test_unsigned_and_shared_secret_tokens_are_refused():
    unsigned = jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": "s", "iat": T, "exp": T + 300}, None, "none")
    assert refused(unsigned) == "algorithm"
    assert refused(token("a-shared-secret-known-to-both-sides", algorithm="HS256")) == "algorithm"
    assert refused("not.a.token") == "malformed"


@pytest.mark.parametrize(
    ("value", "level"),
    [
        ("Substantial", oidc.Assurance.SUBSTANTIAL),
        ("substantial", oidc.Assurance.SUBSTANTIAL),
        ("https://data.gov.dk/concept/core/nsis/loa/Substantial", oidc.Assurance.SUBSTANTIAL),
        ("https://data.gov.dk/concept/core/nsis/High", oidc.Assurance.HIGH),
        ("urn:nsis:low", oidc.Assurance.LOW),
        ("betydelig", oidc.Assurance.SUBSTANTIAL),
        ("høj", oidc.Assurance.HIGH),
        ("", None),
        ("medium", None),
        (2, None),
        (None, None),
    ],
)
def test_assurance_levels_are_read_in_the_forms_brokers_write_them(value, level):
    assert oidc.Assurance.parse(value) == level


def test_the_levels_are_ordered():
    assert oidc.Assurance.LOW < oidc.Assurance.SUBSTANTIAL < oidc.Assurance.HIGH


def test_signaturgruppens_claims():
    claims = {
        "iss": ISSUER,
        "nemlogin.cvr": "12345678",
        "nemlogin.persistent_professional_id": "urn:uuid:3C6D9757-1E70-438A-8DD3-5F84398C2E25",
        "nemlogin.nemid.rid": "4711",
        "nemlogin.name": "Birthe Bestiller",
        "nemlogin.email": "bb@aarhus.dk",
        "loa": "https://data.gov.dk/concept/core/nsis/loa/Substantial",
        "auth_time": T,
    }
    read = oidc.mitid_claims(claims, oidc.CLAIM_PRESETS["signaturgruppen"])
    assert (read.cvr, read.uuid, read.rid, read.name, read.email) == (
        "12345678",
        "3c6d9757-1e70-438a-8dd3-5f84398c2e25",
        "4711",
        "Birthe Bestiller",
        "bb@aarhus.dk",
    )
    assert read.assurance is oidc.Assurance.SUBSTANTIAL and read.authenticated_at == NOW
    assert read.is_company_signatory is None  # Signaturgruppen's scope does not say


def test_iduras_claims_with_the_company_signatory_flag():
    claims = {
        "cvrNumberIdentifier": "12345678",
        "uuid": "{3c6d9757-1e70-438a-8dd3-5f84398c2e25}",
        "name": "Ditlev",
        "companySignatory": "true",
        "loa": "high",
    }
    read = oidc.mitid_claims(claims, oidc.CLAIM_PRESETS["idura"])
    assert read.uuid == "3c6d9757-1e70-438a-8dd3-5f84398c2e25" and read.is_company_signatory is True
    assert (
        oidc.mitid_claims({**claims, "companySignatory": "false"}, oidc.CLAIM_PRESETS["idura"]).is_company_signatory
        is False
    )


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"uuid": "3c6d9757-1e70-438a-8dd3-5f84398c2e25"}, "no_cvr"),
        ({"cvrNumberIdentifier": " ", "uuid": "3c6d9757-1e70-438a-8dd3-5f84398c2e25"}, "no_cvr"),
        ({"cvrNumberIdentifier": "1234567", "uuid": "3c6d9757-1e70-438a-8dd3-5f84398c2e25"}, "malformed_cvr"),
        ({"cvrNumberIdentifier": "123456789", "uuid": "3c6d9757-1e70-438a-8dd3-5f84398c2e25"}, "malformed_cvr"),
        ({"cvrNumberIdentifier": "12345678"}, "no_uuid"),
        ({"cvrNumberIdentifier": "12345678", "uuid": "3c6d9757-1e70-438a-8dd3-5f84398c2e2"}, "no_uuid"),
    ],
)
def test_a_login_without_cvr_or_uuid_is_refused(claims, code):
    with pytest.raises(oidc.ClaimsRefused) as caught:
        oidc.mitid_claims(claims, oidc.CLAIM_PRESETS["idura"])
    assert caught.value.code == code


def test_the_signed_id_token_wins_over_userinfo():
    assert oidc.merged({"nemlogin.cvr": "11111111"}, {"nemlogin.cvr": "22222222", "x": 1}) == {
        "nemlogin.cvr": "11111111",
        "x": 1,
    }


def test_entra_claims_key_on_tenant_and_object_id_and_read_the_roles():
    read = oidc.entra_claims({"tid": "T", "oid": "O", "roles": ["A", 3, "B"], "preferred_username": "k@kmd.dk"})
    assert (read.tenant, read.object_id, read.roles, read.email) == ("t", "o", frozenset({"A", "B"}), "k@kmd.dk")
    assert oidc.entra_claims({"tid": "T", "oid": "O", "roles": "A"}).roles == frozenset()
    with pytest.raises(oidc.ClaimsRefused):
        oidc.entra_claims({"tid": "T"})
