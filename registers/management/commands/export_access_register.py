from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from audit.keys import require_keys
from ordering.models import AccessOrder
from registers.access import access_register


class Command(BaseCommand):
    help = (
        "Write the access register of one environment: the same bytes and detached JWS as "
        "GET /api/v1/access-register. The body goes to --output (or standard output), the signature to "
        "--signature-file (or standard error)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--environment", required=True, choices=AccessOrder.Environment.values)
        parser.add_argument("--output", type=Path, help="file for the JSON body (default: standard output)")
        parser.add_argument("--signature-file", type=Path, help="file for the detached JWS (default: standard error)")

    def handle(self, *args, environment: str, output: Path | None, signature_file: Path | None, **options) -> None:
        try:
            require_keys("ACCESS_REGISTER_SIGNING_KEY")  # before anything is read: nothing unsigned is handed out
        except ImproperlyConfigured as missing:
            raise CommandError(str(missing)) from missing
        register = access_register(environment)
        try:
            signature = register.signature
        except ImproperlyConfigured as error:  # an unsigned register is never handed out
            raise CommandError(str(error)) from error
        if output:
            output.write_bytes(register.body)
        else:
            # The bytes as signed: through the binary stream when there is one (a terminal, a pipe).
            stream = getattr(self.stdout._out, "buffer", None)
            if stream is not None:
                self.stdout.flush()
                stream.write(register.body)
                stream.flush()
            else:
                self.stdout.write(register.body.decode("utf-8"), ending="")
        if signature_file:
            signature_file.write_text(signature + "\n", encoding="ascii")
        else:
            self.stderr.write(signature)
