"""`manage.py check --deploy`: the access register cannot be served unsigned, so production needs its key."""

from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

from . import jws


@register(Tags.security, deploy=True)
def access_register_keys(app_configs, **kwargs) -> list[Error]:
    problems = []
    for read in (jws.signing_key, jws.next_public_keys, jws.previous_public_keys):
        try:
            read()
        except ImproperlyConfigured as error:
            problems.append(
                Error(
                    str(error),
                    hint="Without a signing key KMD's gateway gets 503 from /api/v1/access-register (README.md).",
                    id="registers.E001",
                )
            )
    return problems
