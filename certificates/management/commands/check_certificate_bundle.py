import datetime
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from certificates.trust import trust_for
from certificates.validation import MAX_UPLOAD_BYTES, inspect_bundle


class Command(BaseCommand):
    help = "Check a certificate bundle (.zip or .pem) as an upload would be checked. Exit 0 when accepted, 1 when not."
    # A pure check of one file: it needs neither the database nor the URL configuration the checks load.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--environment", choices=["test", "production"], default="test")
        parser.add_argument("--at", help="check validity on this date (YYYY-MM-DD) instead of now")
        parser.add_argument("--cvr", default="", help="the vendor's CVR, to compare with the certificate")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument("--language", choices=["da", "en"], default="da")

    def handle(self, *args, path, environment, at, cvr, language, **options):
        as_json = options["json"]
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"No such file: {path}")
        with file.open("rb") as handle:
            data = handle.read(MAX_UPLOAD_BYTES + 1)  # the cap is checked without reading a huge file
        when = timezone.now()
        if at:
            try:
                day = datetime.date.fromisoformat(at)
            except ValueError:
                raise CommandError("--at takes a date as YYYY-MM-DD") from None
            when = datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.UTC)
        report = inspect_bundle(data, file.name, trust=trust_for(environment), at=when, expected_cvr=cvr)
        if as_json:
            self.stdout.write(_as_json(report, language))
        else:
            self.stdout.write(_as_text(report, language))
        raise SystemExit(0 if report.valid else 1)


def _as_json(report, language: str) -> str:
    return json.dumps(
        {
            "valid": report.valid,
            "findings": [
                {"code": f.code, "severity": f.severity, "message": f.message(language)} for f in report.findings
            ],
            "chain": [
                {
                    "role": e.role,
                    "subject": e.subject,
                    "issuer": e.issuer,
                    "sha256": e.sha256,
                    "not_before": e.not_before.isoformat(),
                    "not_after": e.not_after.isoformat(),
                }
                for e in report.chain
            ],
        },
        ensure_ascii=False,
        indent=2,
    )


def _as_text(report, language: str) -> str:
    lines = [f"{report.filename}: {'ACCEPTED' if report.valid else 'REJECTED'}"]
    for entry in report.chain:
        lines.append(f"  {entry.role:<12} {entry.subject}  (to {entry.not_after:%Y-%m-%d}, SHA-256 {entry.sha256})")
    for finding in report.findings:
        lines.append(f"  [{finding.severity}] {finding.code}: {finding.message(language)}")
    return "\n".join(lines)
