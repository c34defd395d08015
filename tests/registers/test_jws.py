"""The register's detached JWS (registers/jws.py): what a gateway's verification accepts and refuses,
and how the keys are read from the environment. No database."""

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core.exceptions import ImproperlyConfigured

from registers import jws
from registers.checks import access_register_keys

BODY = b'{"accesses":[]}'


def raw_public(key) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def signed_with_header(header: dict, key, payload: bytes = BODY, *, attach: bool = False) -> str:
    """A correctly signed JWS with any header, detached unless `attach`: what a forger could send."""
    protected = jws.b64url(json.dumps(header).encode())
    signing_input = f"{protected}.{jws.b64url(payload)}".encode()
    return f"{protected}.{jws.b64url(payload) if attach else ''}.{jws.b64url(key.sign(signing_input))}"


@pytest.fixture
def key():
    return Ed25519PrivateKey.generate()


@pytest.fixture
def keys(key):
    return {jws.key_id(key.public_key()): key.public_key()}


def test_a_detached_eddsa_signature_by_a_published_key_verifies(key, keys):
    kid = jws.key_id(key.public_key())

    assert jws.verify_detached(signed_with_header({"alg": "EdDSA", "kid": kid}, key), BODY, keys) is True


@pytest.mark.parametrize("alg", ["none", "HS256", "ES256", "eddsa", None])
def test_a_signature_whose_header_names_another_algorithm_is_refused(key, keys, alg):
    header = {"kid": jws.key_id(key.public_key())} | ({"alg": alg} if alg else {})

    assert jws.verify_detached(signed_with_header(header, key), BODY, keys) is False


def test_a_signature_with_the_payload_attached_is_refused_though_it_verifies(key, keys):
    header = {"alg": "EdDSA", "kid": jws.key_id(key.public_key())}

    assert jws.verify_detached(signed_with_header(header, key, attach=True), BODY, keys) is False
    assert jws.verify_detached(signed_with_header(header, key, attach=False), BODY, keys) is True


def test_a_signature_by_a_key_that_is_not_published_is_refused(key, keys):
    other = Ed25519PrivateKey.generate()
    header = {"alg": "EdDSA", "kid": jws.key_id(other.public_key())}

    assert jws.verify_detached(signed_with_header(header, other), BODY, keys) is False


def test_the_protected_header_is_compact_utf8_json(key):
    detached = jws.sign_detached(BODY, key, {"alg": "EdDSA", "kid": "nøgle 1"})

    assert jws.b64url_decode(detached.split(".")[0]) == '{"alg":"EdDSA","kid":"nøgle 1"}'.encode()


def test_the_signing_key_must_be_exactly_32_bytes(settings):
    for size in (31, 33):
        settings.ACCESS_REGISTER_SIGNING_KEY = base64.b64encode(bytes(size)).decode()
        with pytest.raises(ImproperlyConfigured):
            jws.signing_key()
    settings.ACCESS_REGISTER_SIGNING_KEY = base64.b64encode(bytes(32)).decode()

    assert jws.signing_key().private_bytes_raw() == bytes(32)


@pytest.mark.parametrize("size", [31, 33])
def test_a_previous_public_key_that_is_not_32_bytes_is_refused(settings, size):
    settings.ACCESS_REGISTER_PREVIOUS_PUBLIC_KEYS = [base64.b64encode(bytes(size)).decode()]

    with pytest.raises(ImproperlyConfigured, match="each key must be 32 bytes"):
        jws.previous_public_keys()


@pytest.mark.parametrize("size", [31, 33])
def test_a_next_public_key_that_is_not_32_bytes_is_refused(settings, size):
    settings.ACCESS_REGISTER_NEXT_PUBLIC_KEYS = [base64.b64encode(bytes(size)).decode()]

    with pytest.raises(ImproperlyConfigured, match="ACCESS_REGISTER_NEXT_PUBLIC_KEYS: each key must be 32 bytes"):
        jws.next_public_keys()


def test_a_next_public_key_that_already_signs_is_refused_with_what_to_do(settings):
    current = Ed25519PrivateKey.generate()
    settings.ACCESS_REGISTER_SIGNING_KEY = base64.b64encode(current.private_bytes_raw()).decode()
    settings.ACCESS_REGISTER_NEXT_PUBLIC_KEYS = [
        base64.b64encode(raw_public(Ed25519PrivateKey.generate())).decode(),
        base64.b64encode(raw_public(current)).decode(),
    ]

    with pytest.raises(ImproperlyConfigured) as refused:
        jws.next_public_keys()

    assert str(refused.value) == (
        "ACCESS_REGISTER_NEXT_PUBLIC_KEYS lists the key that already signs (ACCESS_REGISTER_SIGNING_KEY): "
        "a next key must be a new one. Once it signs, remove it from ACCESS_REGISTER_NEXT_PUBLIC_KEYS and "
        "list the key it replaced in ACCESS_REGISTER_PREVIOUS_PUBLIC_KEYS (README.md)."
    )


def test_check_deploy_names_a_bad_next_key_and_a_missing_signing_key_once(settings):
    settings.ACCESS_REGISTER_NEXT_PUBLIC_KEYS = [base64.b64encode(bytes(31)).decode()]
    assert [(e.id, e.msg.split(":")[0]) for e in access_register_keys(None)] == [
        ("registers.E001", "ACCESS_REGISTER_NEXT_PUBLIC_KEYS")
    ]

    settings.ACCESS_REGISTER_SIGNING_KEY = ""
    settings.ACCESS_REGISTER_NEXT_PUBLIC_KEYS = [jws.b64url(raw_public(Ed25519PrivateKey.generate()))]
    assert [e.msg.split()[0] for e in access_register_keys(None)] == ["ACCESS_REGISTER_SIGNING_KEY"]
    assert len(jws.next_public_keys()) == 1  # read all the same: only the signing key is wrong


def test_previous_public_keys_are_read_padded_or_not_plain_or_url_safe(settings):
    # A key whose base64 holds "+" and "/" (URL-safe: "-" and "_"), so the two alphabets differ.
    raw = raw_public(Ed25519PrivateKey.from_private_bytes(bytes([2]) * 32))
    plain = base64.b64encode(raw).decode()
    url_safe = base64.urlsafe_b64encode(raw).decode()
    assert plain == "gTl3Dqh9F19Wo1Rmw0x+zMuNipG07jeiXfYPW4/Js5Q="
    settings.ACCESS_REGISTER_PREVIOUS_PUBLIC_KEYS = [plain, plain.rstrip("="), url_safe.rstrip("="), f"  {url_safe}\n"]

    read = [key.public_bytes(Encoding.Raw, PublicFormat.Raw) for key in jws.previous_public_keys()]

    assert read == [raw, raw, raw, raw]


def gateway_keys() -> dict[str, Ed25519PublicKey]:
    """The keys by id, as a gateway holds them after reading the published JWKS (not the app's own list)."""
    return {
        jwk["kid"]: Ed25519PublicKey.from_public_bytes(jws.b64url_decode(jwk["x"]))
        for jwk in jws.published_keys()["keys"]
    }


def test_the_published_keys_are_the_current_and_previous_keys_by_id(settings):
    current = Ed25519PrivateKey.generate()
    old = Ed25519PrivateKey.generate()
    settings.ACCESS_REGISTER_SIGNING_KEY = base64.b64encode(current.private_bytes_raw()).decode()
    settings.ACCESS_REGISTER_PREVIOUS_PUBLIC_KEYS = [jws.b64url(raw_public(old))]

    keys = gateway_keys()

    assert {kid: k.public_bytes(Encoding.Raw, PublicFormat.Raw) for kid, k in keys.items()} == {
        jws.key_id(current.public_key()): raw_public(current),
        jws.key_id(old.public_key()): raw_public(old),
    }
    assert jws.verify_detached(jws.sign_register(BODY), BODY, keys) is True
    header = {"alg": "EdDSA", "kid": jws.key_id(old.public_key())}
    assert jws.verify_detached(signed_with_header(header, old), BODY, keys) is True


def test_the_published_keys_are_the_current_then_the_next_then_the_previous(settings):
    current, upcoming, old = (Ed25519PrivateKey.generate() for _ in range(3))
    settings.ACCESS_REGISTER_SIGNING_KEY = base64.b64encode(current.private_bytes_raw()).decode()
    settings.ACCESS_REGISTER_NEXT_PUBLIC_KEYS = [jws.b64url(raw_public(upcoming))]
    settings.ACCESS_REGISTER_PREVIOUS_PUBLIC_KEYS = [jws.b64url(raw_public(old))]

    assert [k["kid"] for k in jws.published_keys()["keys"]] == [
        jws.key_id(key.public_key()) for key in (current, upcoming, old)
    ]
    assert jws.verify_detached(jws.sign_register(BODY), BODY, gateway_keys())  # the current key still signs
    assert list(gateway_keys())[0] == jws.key_id(current.public_key())


def test_a_key_published_twice_is_listed_once(settings):
    current = Ed25519PrivateKey.generate()
    settings.ACCESS_REGISTER_SIGNING_KEY = base64.b64encode(current.private_bytes_raw()).decode()
    settings.ACCESS_REGISTER_PREVIOUS_PUBLIC_KEYS = [jws.b64url(raw_public(current))]

    assert [k["kid"] for k in jws.published_keys()["keys"]] == [jws.key_id(current.public_key())]
