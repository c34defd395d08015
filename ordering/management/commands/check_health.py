import datetime

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from core.outbox import outbox_problems
from core.storage import unreferenced_file_problems
from ordering.models import Addendum


def document_problems() -> list[str]:
    """Addendum documents that should exist by now and do not."""
    late = timezone.now() - datetime.timedelta(seconds=settings.ADDENDUM_RENDER_STALLED_SECONDS)
    problems = []
    issued = Addendum.objects.select_related("order").filter(status=Addendum.Status.ISSUED).order_by("pk")
    for addendum in issued.filter(render_status=Addendum.RenderStatus.FAILED):
        problems.append(
            f"addendum {addendum.number} (order {addendum.order_id}): rendering failed: {addendum.render_error}"
        )
    for addendum in issued.filter(render_status=Addendum.RenderStatus.PENDING, issued_at__lt=late):
        if addendum.render_stalled:
            problems.append(
                f"addendum {addendum.number} (order {addendum.order_id}): still being generated, "
                f"asked for at {addendum.render_requested_at().isoformat(timespec='seconds')}"
            )
    unstamped = Addendum.objects.select_related("order").filter(
        status=Addendum.Status.ACCEPTED, final_sha256="", decided_at__lt=late
    )
    for addendum in unstamped.order_by("pk"):
        problems.append(
            f"addendum {addendum.number} (order {addendum.order_id}): accepted "
            f"{addendum.decided_at.isoformat(timespec='seconds')} but has no stamped copy"
        )
    return problems


class Command(BaseCommand):
    help = (
        "Report what background work has not got done: addendum documents failed or stuck, accepted versions "
        "without their stamped copy, e-mails and jobs given up or overdue in the outbox, files in private storage "
        "that nothing references (manage.py private_files). Exit 0 when none, 1 naming each."
    )
    requires_system_checks = []

    def handle(self, *args, **options):
        problems = document_problems() + outbox_problems() + unreferenced_file_problems()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise SystemExit(1)
        self.stdout.write(
            "Background work is up to date: no stuck documents, nothing given up or overdue, no stray files."
        )
