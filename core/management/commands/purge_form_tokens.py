from django.core.management.base import BaseCommand

from core.form_tokens import MAX_AGE, form_tokens_purge


class Command(BaseCommand):
    help = f"Forget used form tokens older than a token can live ({MAX_AGE.days} days). Safe to run any time."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"{form_tokens_purge()} used form tokens forgotten.")
