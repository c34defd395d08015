"""Make a token for KMD's web-service gateway, which reads the access register and nothing else.

The secret is printed once, here; only its SHA-256 is stored. Revoke it in the admin (API tokens).
"""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import ApiToken
from accounts.tokens import LONGEST_DAYS, token_create
from core.errors import Refusal


class Command(BaseCommand):
    help = "Make a gateway token (scope: register) and print its secret once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="What the token is for, e.g. the gateway's host name.")
        parser.add_argument(
            "--last-day",
            type=datetime.date.fromisoformat,
            help=f"The last day it works, YYYY-MM-DD, Copenhagen time: from today to {LONGEST_DAYS} days "
            f"after today (the default). It expires at the midnight after it, as a profile token does.",
        )

    def handle(self, *args, name: str, last_day: datetime.date | None, **options) -> None:
        if not name.strip():
            raise CommandError("Give the token a name.")
        if last_day is None:
            last_day = timezone.localdate() + datetime.timedelta(days=LONGEST_DAYS)
        try:
            token, secret = token_create(
                user=None,
                name=name,
                scopes=[ApiToken.Scope.REGISTER],
                last_day=last_day,
                actor=None,
                kind=ApiToken.Kind.GATEWAY,
            )
        except Refusal as refusal:
            raise CommandError(refusal.message) from refusal
        expires = timezone.localtime(token.expires_at)
        self.stderr.write(
            f"Gateway token “{token.name}” ({token.prefix}…) works through {last_day:%Y-%m-%d} and expires "
            f"{expires:%Y-%m-%d %H:%M %Z}. The secret follows; it is not shown again:"
        )
        self.stdout.write(secret)
