import hashlib

from django.core.management.base import BaseCommand

from ordering.models import Addendum


def _sha256(field) -> str | None:
    try:
        with field.open("rb") as stored:
            return hashlib.sha256(stored.read()).hexdigest()
    except (FileNotFoundError, OSError):
        return None


class Command(BaseCommand):
    help = (
        "Re-hash every stored addendum PDF and report any that no longer match, and any acceptance whose MitID "
        "Erhverv login was for another CVR number than the customer's. Exit 1 on a problem."
    )
    # Run from cron and by auditors; the system checks would only slow it down.
    requires_system_checks = []

    def handle(self, *args, **options):
        problems, checked = [], 0
        for addendum in Addendum.objects.select_related("order__customer").exclude(pdf="").iterator():
            checked += 1
            actual = _sha256(addendum.pdf)
            if actual is None:
                problems.append(f"{addendum.number}: the PDF is missing from storage")
            elif actual != addendum.pdf_sha256:
                problems.append(f"{addendum.number}: the PDF does not match its recorded SHA-256")
            if addendum.status == Addendum.Status.ACCEPTED and addendum.accepted_sha256 != addendum.pdf_sha256:
                problems.append(f"{addendum.number}: the accepted hash is not the hash of the stored PDF")
            login = addendum.signer_login or {}
            if (
                addendum.status == Addendum.Status.ACCEPTED
                and login.get("scheme") == "mitid_erhverv"
                and login.get("organisation") != addendum.order.customer.cvr
            ):
                problems.append(
                    f"{addendum.number}: accepted by someone logged in for CVR {login.get('organisation')}, "
                    f"not the customer's {addendum.order.customer.cvr}"
                )
            if addendum.final_sha256 and _sha256(addendum.final_pdf) != addendum.final_sha256:
                problems.append(f"{addendum.number}: the accepted copy does not match its recorded SHA-256")
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise SystemExit(1)
        self.stdout.write(f"All {checked} addendum documents match their hashes.")
