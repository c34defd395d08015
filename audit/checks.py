"""`manage.py check --deploy`: the audit trail's keys have their form, so a wrong one is found when deploying,
not when the nightly checkpoint runs (or a verifier fails on it).

Only the form of the values settings hold is checked here; which process needs which key is README.md's.
"""

import base64
import binascii

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.checks import Error, Tags, register

# An HMAC key guessed is a trail rewritten: 32 characters of a random string are far beyond guessing.
SHORTEST_HMAC_KEY = 32
MAKE_ED25519_KEY = 'python -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())"'
PUBLIC_KEY_HINT = "Set the public key of AUDIT_CHECKPOINT_KEY, or leave it unset where the private key is."


def strict_base64(text: str) -> bytes | None:
    """The bytes of padded standard base64, or None for anything else.

    A decoder that does not validate drops every character base64 does not have, and so reads a mistyped or
    URL-safe key as another key, or fails only when the key is used.
    """
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


@register(Tags.security, deploy=True)
def audit_keys(app_configs, **kwargs) -> list[Error]:
    problems = []
    if len(settings.AUDIT_HMAC_KEY) < SHORTEST_HMAC_KEY:
        problems.append(
            Error(
                f"AUDIT_HMAC_KEY has {len(settings.AUDIT_HMAC_KEY)} characters, fewer than {SHORTEST_HMAC_KEY}: a key "
                "this short can be guessed, and whoever guesses it can rewrite the audit trail undetected.",
                hint='Set at least 32 random characters: python -c "import secrets; print(secrets.token_urlsafe(48))". '
                "Events sealed with the old key then no longer verify (README.md, Audit trail).",
                id="audit.E001",
            )
        )
    # Each key where it is set: 32 bytes in standard base64, or the checkpoints cannot be signed or verified.
    keys = {}
    for name, consequence, hint, check_id in (
        ("AUDIT_CHECKPOINT_KEY", "the audit checkpoints cannot be signed", f"Make one with {MAKE_ED25519_KEY}", "E002"),
        ("AUDIT_CHECKPOINT_PUBLIC_KEY", "no audit checkpoint can be verified", PUBLIC_KEY_HINT, "E003"),
    ):
        text = getattr(settings, name)
        keys[name] = strict_base64(text) if text else None
        if text and (keys[name] is None or len(keys[name]) != 32):
            keys[name] = None
            problems.append(
                Error(
                    f"{name} is not 32 bytes in standard base64, so {consequence}.", hint=hint, id=f"audit.{check_id}"
                )
            )
    seed, public = keys["AUDIT_CHECKPOINT_KEY"], keys["AUDIT_CHECKPOINT_PUBLIC_KEY"]
    if seed is not None and public is not None:
        private = Ed25519PrivateKey.from_private_bytes(seed)
        if public != private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw):
            problems.append(
                Error(
                    "AUDIT_CHECKPOINT_PUBLIC_KEY is not AUDIT_CHECKPOINT_KEY's public key, so the checkpoints this "
                    "machine signs fail verification here.",
                    hint=PUBLIC_KEY_HINT,
                    id="audit.E004",
                )
            )
    return problems
