"""A register-key rotation KMD's gateway survives (README.md, "Access register", "Rotating the key").

The gateway's side is README.md's own verifier, run as printed: it keeps the key set it fetched and, for a
`kid` it does not hold, fetches the key set once more and no more. The server's side is the real key-set
endpoint and the real register, with the keys set as an operator sets them at each step of the schedule.
"""

import base64
import datetime
import json
import re
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.utils import timezone

from accounts.tokens import token_create
from registers import jws
from registers.views import KEY_SET_MAX_AGE
from tests.registers.test_jws import BODY, raw_public

from ..conftest import make_order

ROOT = Path(__file__).resolve().parent.parent.parent
JWKS_URL = "/.well-known/opus-adgang-register-keys.json"
# README.md's schedule: the next key is published at least the key set's max-age plus an hour's margin before
# it signs (the least; a day is recommended).
LEAD = KEY_SET_MAX_AGE + 3600

A = Ed25519PrivateKey.from_private_bytes(bytes([0xA]) * 32)
B = Ed25519PrivateKey.from_private_bytes(bytes([0xB]) * 32)
C = Ed25519PrivateKey.from_private_bytes(bytes([0xC]) * 32)  # never published


def readme_recipe() -> dict:
    """The gateway's verifier exactly as README.md prints it ("Verifying the signature")."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [block for block in re.findall(r"```python\n(.*?)```", readme, re.DOTALL) if "RegisterVerifier" in block]
    assert len(blocks) == 1, "README.md prints the gateway's verifier once"
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)  # noqa: S102 -- the README's own text, run as a gateway would
    return namespace


def public(key: Ed25519PrivateKey) -> str:
    return base64.b64encode(raw_public(key)).decode()


def keys_in_use(settings, *, signing, next=(), previous=()) -> None:
    """What the operator sets at one step of the schedule."""
    settings.ACCESS_REGISTER_SIGNING_KEY = base64.b64encode(signing.private_bytes_raw()).decode()
    settings.ACCESS_REGISTER_NEXT_PUBLIC_KEYS = [public(key) for key in next]
    settings.ACCESS_REGISTER_PREVIOUS_PUBLIC_KEYS = [public(key) for key in previous]


class KeySetFetches:
    """The gateway's GET of the key set, counted."""

    def __init__(self, client):
        self.client, self.count = client, 0

    def __call__(self) -> dict:
        self.count += 1
        response = self.client.get(JWKS_URL)
        assert response.status_code == 200, response.content
        return json.loads(response.content)


@pytest.fixture
def gateway_key(db):
    last_day = timezone.localdate() + datetime.timedelta(days=30)
    return token_create(
        user=None, name="KMD gateway", scopes=["register"], last_day=last_day, actor=None, kind="gateway"
    )[1]


def register(client, gateway_key) -> tuple[bytes, str]:
    response = client.get(
        "/api/v1/access-register", {"environment": "production"}, HTTP_AUTHORIZATION=f"Bearer {gateway_key}"
    )
    assert response.status_code == 200, response.content
    return response.content, response["JWS-Signature"]


def kid_of(signature: str) -> str:
    return json.loads(jws.b64url_decode(signature.split(".")[0]))["kid"]


def signed_by(key: Ed25519PrivateKey, body: bytes = BODY) -> str:
    return jws.sign_detached(body, key, {"alg": "EdDSA", "kid": jws.key_id(key.public_key())})


# --- Through a planned rotation -----------------------------------------------------------------------


def test_a_gateway_that_read_the_key_set_before_the_switch_verifies_the_new_key_without_fetching_again(
    cast, client, gateway_key, settings
):
    make_order(cast, "active")
    fetches = KeySetFetches(client)
    gateway = readme_recipe()["RegisterVerifier"](fetch=fetches)
    keys_in_use(settings, signing=A, next=[B])  # step 1: B is published, A still signs
    before = register(client, gateway_key)
    assert gateway.verify(*before)["accesses"]

    keys_in_use(settings, signing=B, previous=[A])  # step 2: B signs, A stays listed
    after = register(client, gateway_key)

    assert kid_of(after[1]) == jws.key_id(B.public_key())
    assert gateway.verify(*after) == json.loads(after[0])
    assert gateway.verify(*before) == json.loads(before[0])  # a register signed just before the switch, too
    assert fetches.count == 1


def test_a_gateway_that_holds_only_the_old_key_fetches_the_key_set_once_more_and_verifies(
    cast, client, gateway_key, settings
):
    make_order(cast, "active")
    fetches = KeySetFetches(client)
    gateway = readme_recipe()["RegisterVerifier"](fetch=fetches)
    keys_in_use(settings, signing=A)  # the gateway reads the key set before B was published: {A}
    gateway.verify(*register(client, gateway_key))
    keys_in_use(settings, signing=B, previous=[A])

    body, signature = register(client, gateway_key)

    assert gateway.verify(body, signature) == json.loads(body)
    assert fetches.count == 2
    gateway.verify(*register(client, gateway_key))
    assert fetches.count == 2  # B is held now


def test_a_kid_missing_from_the_fresh_key_set_too_is_refused_after_one_more_fetch(client, db, settings):
    fetches = KeySetFetches(client)
    gateway = readme_recipe()["RegisterVerifier"](fetch=fetches)
    keys_in_use(settings, signing=A, next=[B])
    gateway.verify(BODY, signed_by(A))

    with pytest.raises(LookupError):
        gateway.verify(BODY, signed_by(C))
    assert fetches.count == 2
    with pytest.raises(LookupError):  # each such signature costs one fetch, never a loop
        gateway.verify(BODY, signed_by(C))
    assert fetches.count == 3


def test_a_bad_signature_by_a_held_key_is_refused_without_fetching_again(client, db, settings):
    fetches = KeySetFetches(client)
    gateway = readme_recipe()["RegisterVerifier"](fetch=fetches)
    keys_in_use(settings, signing=A)
    gateway.verify(BODY, signed_by(A))

    with pytest.raises(InvalidSignature):
        gateway.verify(BODY.replace(b"[]", b"[1]"), signed_by(A))
    assert fetches.count == 1


def test_the_first_signature_fetches_the_key_set_once(client, db, settings):
    fetches = KeySetFetches(client)
    gateway = readme_recipe()["RegisterVerifier"](fetch=fetches)
    keys_in_use(settings, signing=A)

    with pytest.raises(LookupError):
        gateway.verify(BODY, signed_by(C))
    assert fetches.count == 1


class Clock:
    """time.monotonic for the recipe, moved by hand."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_a_gateway_fetches_the_key_set_again_once_its_copy_is_an_hour_old_so_a_retired_key_goes(client, db, settings):
    recipe = readme_recipe()
    recipe["time"] = clock = Clock()
    fetches = KeySetFetches(client)
    gateway = recipe["RegisterVerifier"](fetch=fetches)
    keys_in_use(settings, signing=B, previous=[A])
    gateway.verify(BODY, signed_by(A))
    keys_in_use(settings, signing=B)  # step 3: A retired

    clock.now += KEY_SET_MAX_AGE - 1
    gateway.verify(BODY, signed_by(A))
    assert fetches.count == 1
    clock.now += 1
    with pytest.raises(LookupError):
        gateway.verify(BODY, signed_by(A))
    assert fetches.count == 2
    assert recipe["RegisterVerifier"].MAX_AGE == KEY_SET_MAX_AGE  # the README's number is the one served


def test_a_next_key_left_in_place_after_the_switch_stops_the_key_set_with_the_reason_logged(
    client, db, settings, caplog
):
    keys_in_use(settings, signing=B, next=[B], previous=[A])

    response = client.get(JWKS_URL)

    assert response.status_code == 503
    assert "ACCESS_REGISTER_NEXT_PUBLIC_KEYS lists the key that already signs" in caplog.text


# --- The schedule, for a gateway that only ever refreshes its copy after the key set's max-age ----------


def schedule(now: int, lead: int) -> dict:
    """The keys the operator has set `now` seconds after publishing B, switching `lead` seconds after that."""
    if now < 0:
        return {"signing": A}
    if now < lead:
        return {"signing": A, "next": [B]}
    return {"signing": B, "previous": [A]}


def max_age(response) -> int:
    return int(re.search(r"max-age=(\d+)", response["Cache-Control"])[1])


@pytest.mark.parametrize(("lead", "survives"), [(LEAD, True), (KEY_SET_MAX_AGE // 2, False), (0, False)])
def test_a_gateway_that_keeps_the_key_set_for_its_max_age_survives_the_documented_schedule_only(
    client, db, settings, lead, survives
):
    """The gateway fetched the key set one second before B was published and, ignoring the unknown-`kid` rule,
    verifies a register every minute with its copy, refreshed only once the copy is max-age old."""
    held, fetched_at, cached_for, refused, step = {}, None, 0, [], None
    for now in range(-1, lead + 2 * KEY_SET_MAX_AGE, 60):
        if schedule(now, lead) != step:
            step = schedule(now, lead)
            keys_in_use(settings, **step)  # only when the step changes: pytest-django stacks every override
        if fetched_at is None or now - fetched_at >= cached_for:
            response = client.get(JWKS_URL)
            held = {
                k["kid"]: Ed25519PublicKey.from_public_bytes(jws.b64url_decode(k["x"])) for k in response.json()["keys"]
            }
            fetched_at, cached_for = now, max_age(response)
        if not jws.verify_detached(jws.sign_register(BODY), BODY, held):
            refused.append(now)

    assert cached_for == KEY_SET_MAX_AGE
    assert (refused == []) is survives
