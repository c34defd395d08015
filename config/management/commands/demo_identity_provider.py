"""The local demo's identity providers: a MitID Erhverv broker and KMD's Entra ID, on this machine only.

`make run` starts this beside the server. Each is a real OpenID provider (oidc-provider-mock: discovery,
JWKS, signed ID tokens, the authorization-code flow) whose login page lists the demo's people; pick one and
you are logged in to Opus Adgang as that person, through the same code that production points at the real
issuers (docs/login.md). Refuses to run without DJANGO_DEBUG=1: it logs anyone in who asks.
"""

import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config import demo_identities as demo
from config.management.commands.seed_demo import USERS


class Command(BaseCommand):
    help = "Run the demo's MitID Erhverv broker and Entra ID on 127.0.0.1 (make run starts it; DJANGO_DEBUG=1 only)."

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("The demo identity provider logs in anyone who asks: it runs with DJANGO_DEBUG=1 only.")
        from oidc_provider_mock import User, run_server_in_thread

        def person(username: str) -> tuple[str, str]:
            first, last, email, _title = USERS[username]
            return f"{first} {last}", email

        mitid = [
            User(sub=f"{username} (CVR {cvr})", claims=demo.mitid_claims(username, cvr, *person(username)))
            for username, cvr in demo.MITID_PEOPLE
        ]
        entra = [
            User(sub=username, claims=demo.entra_claims(username, roles, *person(username)))
            for username, roles in demo.KMD_PEOPLE
        ]
        servers = [
            run_server_in_thread(port=demo.MITID_PORT, user_claims=mitid),
            run_server_in_thread(port=demo.ENTRA_PORT, user_claims=entra),
        ]
        with servers[0], servers[1]:
            self.stdout.write(
                f"Demo MitID Erhverv broker on http://localhost:{demo.MITID_PORT}, "
                f"demo Entra ID on http://localhost:{demo.ENTRA_PORT} (Ctrl-C stops them)."
            )
            stop = threading.Event()
            try:
                while not stop.is_set():
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
