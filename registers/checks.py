"""`manage.py check --deploy`: the access register cannot be served unsigned, so production needs its key."""

import base64
import binascii

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

from . import jws

HINT = "Without a signing key KMD's gateway gets 503 from /api/v1/access-register (README.md)."


def has_foreign_characters(text: str) -> bool:
    """Whether a key holds characters neither base64 alphabet has, or padding in its middle.

    jws.py reads plain or URL-safe base64, padded or not, and drops any other character: a key with such a
    character in it is read as some other key than the one written.
    """
    normalised = text.strip().replace("-", "+").replace("_", "/")
    try:
        base64.b64decode(normalised + "=" * (-len(normalised) % 4), validate=True)
    except (binascii.Error, ValueError):
        return True
    return False


@register(Tags.security, deploy=True)
def access_register_keys(app_configs, **kwargs) -> list[Error]:
    problems = []
    keys = [("ACCESS_REGISTER_SIGNING_KEY", settings.ACCESS_REGISTER_SIGNING_KEY or "")]
    for name in ("ACCESS_REGISTER_NEXT_PUBLIC_KEYS", "ACCESS_REGISTER_PREVIOUS_PUBLIC_KEYS"):
        keys += [(name, text) for text in getattr(settings, name)]
    for name, text in keys:
        if has_foreign_characters(text):
            problems.append(
                Error(
                    f"{name} holds characters base64 does not have, so the key read is not the key written.",
                    hint=f"Set each key as the 32 bytes in base64 that made it. {HINT}",
                    id="registers.E001",
                )
            )
    if problems:
        return problems
    for read in (jws.signing_key, jws.next_public_keys, jws.previous_public_keys):
        try:
            read()
        except ImproperlyConfigured as error:
            problems.append(Error(str(error), hint=HINT, id="registers.E001"))
    return problems
