"""Make a token for KMD's web-service gateway, which reads the access register and nothing else.

The secret is printed once, here; only its SHA-256 is stored. Revoke it in the admin (API tokens).
"""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import ApiToken
from accounts.tokens import MAX_LIFETIME, token_create
from core.errors import Refusal


class Command(BaseCommand):
    help = "Make a gateway token (scope: register) and print its secret once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="What the token is for, e.g. the gateway's host name.")
        parser.add_argument("--days", type=int, default=365, help="How many days it works (at most 366; default 365).")

    def handle(self, *args, name: str, days: int, **options) -> None:
        if not 1 <= days <= MAX_LIFETIME.days:
            raise CommandError(f"--days must be between 1 and {MAX_LIFETIME.days}.")
        if not name.strip():
            raise CommandError("Give the token a name.")
        expires_at = timezone.now() + datetime.timedelta(days=days)
        try:
            token, secret = token_create(
                user=None,
                name=name,
                scopes=[ApiToken.Scope.REGISTER],
                expires_at=expires_at,
                kind=ApiToken.Kind.GATEWAY,
            )
        except Refusal as refusal:
            raise CommandError(refusal.message) from refusal
        self.stderr.write(
            f"Gateway token “{token.name}” ({token.prefix}…) expires {token.expires_at:%Y-%m-%d %H:%M %Z}. "
            "The secret follows; it is not shown again:"
        )
        self.stdout.write(secret)
