from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand

from core.storage import LEFTOVER_AFTER, unreferenced_files


class Command(BaseCommand):
    help = (
        "List the files in private storage that no row references and the unfinished writes (temporary "
        f"files), older than {int(LEFTOVER_AFTER.total_seconds() // 60)} minutes; with --remove, delete them. "
        "Only the directories the models' files go to are searched."
    )
    requires_system_checks = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--remove", action="store_true", help="delete the files listed")

    def handle(self, *args, remove: bool = False, **options) -> None:
        leftovers = unreferenced_files()
        for leftover in leftovers:
            if remove:
                default_storage.delete(leftover.name)
            self.stdout.write(f"{'removed ' if remove else ''}{leftover.name} ({leftover.why})")
        if not leftovers:
            self.stdout.write("No stray files in private storage.")
        elif remove:
            self.stdout.write(f"{len(leftovers)} files removed.")
        else:
            self.stdout.write(f"{len(leftovers)} files nothing needs; --remove deletes them.")
