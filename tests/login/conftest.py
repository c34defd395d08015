"""A real OpenID provider for the login tests: oidc-provider-mock, served on a free port of this machine.

oidc-provider-mock (0.3.4: the release for Python 3.11) signs ID tokens with its own RSA key, publishes
discovery and JWKS, and lets each test put the claims of a person (PUT /users/<sub>). Two hooks make it
stricter or hostile where a test needs it:

- it enforces PKCE (S256) as a real MitID broker does: a code is exchanged only with its verifier;
- `provider.tamper(change)` re-signs the next ID tokens with the provider's own key after `change` edits
  their claims, or `provider.tamper(resign_with_other_key=True)` signs them with a key nobody published.
"""

import base64
import hashlib
import json
import threading
import time
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import flask
import jwt
import oidc_provider_mock
import pytest
import requests
import werkzeug.serving
from cryptography.hazmat.primitives.asymmetric import rsa
from django.urls import reverse

from config.settings import _oidc_app

MITID, ENTRA = "mitid-erhverv", "entra-id"
CLIENT_ID = "opus-adgang-test"
KMD_TENANT = "6a1f4e2c-0000-4000-8000-00000000cafe"


class Hooks:
    def __init__(self) -> None:
        self.challenges: dict[str, tuple[str, str]] = {}  # code -> (challenge, method)
        self.change = None
        self.other_key = False
        self.token_requests: list[dict] = []
        self.authorize_requests: list[dict] = []
        self.drop_id_token = False

    def reset(self) -> None:
        self.change, self.other_key, self.drop_id_token = None, False, False
        self.token_requests.clear()
        self.authorize_requests.clear()


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def make_app(hooks: Hooks) -> flask.Flask:
    app = oidc_provider_mock.app()

    @app.before_request
    def enforce_pkce():
        request = flask.request
        if request.path == "/oauth2/authorize":
            hooks.authorize_requests.append(dict(request.args))
        if request.path != "/oauth2/token":
            return None
        hooks.token_requests.append(dict(request.form))
        if request.form.get("grant_type") != "authorization_code":
            return None
        challenge = hooks.challenges.get(request.form.get("code", ""))
        verifier = request.form.get("code_verifier")
        if challenge and (not verifier or challenge[1] != "S256" or _s256(verifier) != challenge[0]):
            return flask.jsonify(error="invalid_grant", error_description="PKCE verification failed"), 400
        return None

    @app.after_request
    def remember_and_tamper(response):
        request = flask.request
        if request.path == "/oauth2/authorize" and request.method == "POST" and response.status_code == 302:
            code = parse_qs(urlsplit(response.headers["Location"]).query).get("code", [""])[0]
            if request.args.get("code_challenge"):
                hooks.challenges[code] = (request.args["code_challenge"], request.args.get("code_challenge_method", ""))
        if request.path == "/oauth2/token" and response.status_code == 200 and hooks.drop_id_token:
            body = json.loads(response.get_data())
            body.pop("id_token", None)
            response.set_data(json.dumps(body))
            return response
        if request.path == "/oauth2/token" and response.status_code == 200 and (hooks.change or hooks.other_key):
            body = json.loads(response.get_data())
            claims = jwt.decode(body["id_token"], options={"verify_signature": False})
            if hooks.change:
                claims = hooks.change(claims)
            if hooks.other_key:
                key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            else:
                key = jwt.PyJWK(flask.g.oidc_provider_mock_storage.jwk.as_dict(is_private=True)).key
            body["id_token"] = jwt.encode(claims, key, algorithm="RS256")
            response.set_data(json.dumps(body))
        return response

    return app


@pytest.fixture(scope="session")
def oidc_server():
    hooks = Hooks()
    server = werkzeug.serving.make_server("localhost", 0, make_app(hooks), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://localhost:{server.server_port}", hooks=hooks)
    server.shutdown()


@pytest.fixture
def provider(oidc_server, settings):
    """The provider as both MitID Erhverv broker (Idura's claim names) and KMD's Entra ID, for this test."""
    oidc_server.hooks.reset()
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "OAUTH_PKCE_ENABLED": True,
            "APPS": [
                _oidc_app(MITID, "MitID Erhverv", CLIENT_ID, "secret", oidc_server.url, ["openid", "profile", "email"]),
                _oidc_app(ENTRA, "Entra ID", CLIENT_ID, "secret", oidc_server.url, ["openid", "profile", "email"]),
            ],
        }
    }
    settings.MITID_CLAIM_PRESET = "idura"
    settings.MITID_CLAIM_OVERRIDES = {}
    settings.ENTRA_TENANT_ID = KMD_TENANT

    def person(sub: str, **claims) -> str:
        requests.put(f"{oidc_server.url}/users/{sub}", json=claims, timeout=10).raise_for_status()
        return sub

    def tamper(change=None, *, resign_with_other_key: bool = False) -> None:
        oidc_server.hooks.change, oidc_server.hooks.other_key = change, resign_with_other_key

    return SimpleNamespace(url=oidc_server.url, hooks=oidc_server.hooks, person=person, tamper=tamper)


def mitid_person(provider, sub: str = "p1", *, cvr: str, uuid: str, rid: str = "", loa="Substantial", **more) -> str:
    claims = {"cvrNumberIdentifier": cvr, "uuid": uuid, "name": "Birthe Bestiller", "email": f"{sub}@example.dk"}
    if rid:
        claims["ridNumberIdentifier"] = rid
    if loa is not None:
        claims["loa"] = f"https://data.gov.dk/concept/core/nsis/loa/{loa}"
    return provider.person(sub, **{**claims, **more})


def kmd_person(provider, sub: str = "k1", *, roles, oid="0b5b2f6e-1111-4222-8333-944445555666", tid=KMD_TENANT):
    return provider.person(
        sub, tid=tid, oid=oid, roles=list(roles), name="Kirsten Kundeansvarlig", email=f"{sub}@kmd.dk"
    )


def start(client, provider_id: str = MITID, next_url: str = "/"):
    """The login button: a POST that sends the browser to the provider."""
    response = client.post(reverse("openid_connect_login", args=[provider_id]), {"process": "login", "next": next_url})
    assert response.status_code == 302, response.content[:500]
    return response.url


def authorize(authorize_url: str, sub: str) -> str:
    """The person logs in at the provider, which sends the browser back with a code: the callback's address."""
    answer = requests.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:500]
    location = urlsplit(answer.headers["Location"])
    return f"{location.path}?{location.query}"


def log_in(client, sub: str, provider_id: str = MITID, next_url: str = "/"):
    """The whole login through the provider; the answer to the callback."""
    return client.get(authorize(start(client, provider_id, next_url), sub))


def logged_in_user(client):
    from django.contrib.auth import get_user_model

    user_id = client.session.get("_auth_user_id")
    return get_user_model().objects.get(pk=user_id) if user_id else None


def fresh_times(claims: dict, **shift) -> dict:
    now = int(time.time())
    return {**claims, "iat": now, "exp": now + 600, **shift}
