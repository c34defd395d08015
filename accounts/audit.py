"""What accounts record in the audit trail (audit/): API tokens issued and revoked. KMD's own record, not
published to webhooks; the security log gets its line as well, for monitoring."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from audit import vocabulary


class AccountAuditKind(models.TextChoices):
    API_TOKEN_CREATED = "api_token_created", _("API token issued")
    API_TOKEN_REVOKED = "api_token_revoked", _("API token revoked")


# The job that issues a gateway token: an operator at the server, not a person logged in.
JOB_CREATE_GATEWAY_TOKEN = "manage.py create_gateway_token"  # noqa: S105 (a job's name, no secret)


def register() -> None:
    """Called by AccountsConfig.ready()."""
    vocabulary.register_kinds("accounts", AccountAuditKind, published=False)
