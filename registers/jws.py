"""Detached JWS (RFC 7515) with EdDSA over Ed25519 (RFC 8037): how the access register is signed.

The signature travels beside the body, not around it: `BASE64URL(header)..BASE64URL(signature)`, the
compact serialisation with its payload part left empty (RFC 7515 Appendix F). The signed input is
still `BASE64URL(header) + "." + BASE64URL(body)`, so any JOSE library verifies it once it is given
the body. The key id is the key's RFC 7638 thumbprint: it follows from the key, so nobody has to
choose or keep one in step with the key.

The signing key comes from the environment (ACCESS_REGISTER_SIGNING_KEY: 32 random bytes, base64, as
AUDIT_CHECKPOINT_KEY). A rotation is planned so that no gateway meets a `kid` it cannot find: the next
public key is published before it signs (ACCESS_REGISTER_NEXT_PUBLIC_KEYS), and earlier ones stay published
after (ACCESS_REGISTER_PREVIOUS_PUBLIC_KEYS); README.md, "Access register", has the schedule.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from audit.keys import configured_key

ALGORITHM = "EdDSA"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _compact(value: Mapping) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def public_x(key: Ed25519PublicKey) -> str:
    return b64url(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def key_id(key: Ed25519PublicKey) -> str:
    """The JWK thumbprint (RFC 7638): SHA-256 of the required members in lexical order, base64url."""
    members = _compact({"crv": "Ed25519", "kty": "OKP", "x": public_x(key)})
    return b64url(hashlib.sha256(members).digest())


def public_jwk(key: Ed25519PublicKey) -> dict:
    return {"kty": "OKP", "crv": "Ed25519", "x": public_x(key), "kid": key_id(key), "alg": ALGORITHM, "use": "sig"}


def sign_detached(payload: bytes, key: Ed25519PrivateKey, header: Mapping | None = None) -> str:
    """`BASE64URL(header)..BASE64URL(signature)` over `BASE64URL(header).BASE64URL(payload)`."""
    protected = b64url(_compact(header if header is not None else {"alg": ALGORITHM}))
    signing_input = protected.encode("ascii") + b"." + base64.urlsafe_b64encode(payload).rstrip(b"=")
    return f"{protected}..{b64url(key.sign(signing_input))}"


def verify_detached(jws: str, payload: bytes, keys: Mapping[str, Ed25519PublicKey]) -> bool:
    """True when `jws` is a detached EdDSA signature of `payload` by the key its `kid` names in `keys`."""
    try:
        protected, empty, signature = jws.split(".")
        header = json.loads(b64url_decode(protected))
        key = keys[header["kid"]]
        if empty or header.get("alg") != ALGORITHM:
            return False
        key.verify(b64url_decode(signature), protected.encode("ascii") + b"." + b64url(payload).encode("ascii"))
    except (ValueError, KeyError, TypeError, InvalidSignature, binascii.Error):
        return False
    return True


def signing_key() -> Ed25519PrivateKey:
    seed = _decode(configured_key("ACCESS_REGISTER_SIGNING_KEY"))
    if len(seed) != 32:
        raise ImproperlyConfigured("ACCESS_REGISTER_SIGNING_KEY must be 32 random bytes in base64 (README.md).")
    return Ed25519PrivateKey.from_private_bytes(seed)


def _public_keys(setting: str) -> list[Ed25519PublicKey]:
    keys = []
    for text in getattr(settings, setting):
        raw = _decode(text)
        if len(raw) != 32:
            raise ImproperlyConfigured(f"{setting}: each key must be 32 bytes in base64 (README.md).")
        keys.append(Ed25519PublicKey.from_public_bytes(raw))
    return keys


def previous_public_keys() -> list[Ed25519PublicKey]:
    """Keys that signed before the current one, listed while a register they signed may still be verified."""
    return _public_keys("ACCESS_REGISTER_PREVIOUS_PUBLIC_KEYS")


def next_public_keys() -> list[Ed25519PublicKey]:
    """Keys that will sign after the current one, listed ahead so that gateways hold them before they sign."""
    keys = _public_keys("ACCESS_REGISTER_NEXT_PUBLIC_KEYS")
    try:
        current = key_id(signing_key().public_key())
    except ImproperlyConfigured:
        return keys  # the signing key's own error says what is wrong (registers/checks.py asks for it too)
    if current in {key_id(key) for key in keys}:
        # Most likely step 2 of a rotation half done: the next key was made the signing key and left here too.
        raise ImproperlyConfigured(
            "ACCESS_REGISTER_NEXT_PUBLIC_KEYS lists the key that already signs (ACCESS_REGISTER_SIGNING_KEY): "
            "a next key must be a new one. Once it signs, remove it from ACCESS_REGISTER_NEXT_PUBLIC_KEYS and "
            "list the key it replaced in ACCESS_REGISTER_PREVIOUS_PUBLIC_KEYS (README.md)."
        )
    return keys


def _decode(text: str) -> bytes:
    # Plain or URL-safe base64, padded or not: operators paste keys from either kind of tool.
    try:
        return base64.b64decode(text.strip().replace("-", "+").replace("_", "/") + "=" * (-len(text.strip()) % 4))
    except (ValueError, binascii.Error):
        return b""


def sign_register(payload: bytes) -> str:
    """The register's signature, with the current key's id in the header."""
    key = signing_key()
    return sign_detached(payload, key, {"alg": ALGORITHM, "kid": key_id(key.public_key())})


def published_keys() -> dict:
    """The JWKS served at /.well-known/opus-adgang-register-keys.json: the current key first, then the next ones,
    then earlier ones."""
    keys = [signing_key().public_key(), *next_public_keys(), *previous_public_keys()]
    seen, jwks = set(), []
    for key in keys:
        jwk = public_jwk(key)
        if jwk["kid"] not in seen:
            seen.add(jwk["kid"])
            jwks.append(jwk)
    return {"keys": jwks}
