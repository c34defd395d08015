"""Benchmark: rendering a typical three-page contract addendum, beside a bare WeasyPrint render.

Run: .venv/bin/python bench/bench_addendum.py [--runs 15]
Makes a throw-away test database with an individual-integration order (three interfaces,
certificate, startup package), renders its addendum HTML once, then times in the same process:
  * ours: html_to_pdf() – tagged PDF/A-3a (structure tree), static-only URL fetcher, embedded IBM Plex fonts;
  * bare: weasyprint.HTML(string=…).write_pdf() of the same HTML with the same fetcher.
Prints median time, file size and page count of each, and the ratio (target: within 1.2×).
Rendering is about twice as fast with Debian's libharfbuzz-subset0 installed (font subsetting).
"""

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# A benchmark fills a throw-away database: the published development keys, as the test suite uses them.
os.environ.setdefault("OPUS_DEVELOPMENT_KEYS", "1")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402


def build_addendum():
    import tempfile

    from django.conf import settings
    from django.core.management import call_command

    from ordering.models import Addendum

    settings.CERTIFICATE_TRUST_DIRS["test"].append(Path(tempfile.mkdtemp()) / "demo-trust")
    settings.STORAGES["default"]["OPTIONS"]["location"] = str(Path(settings.CERTIFICATE_TRUST_DIRS["test"][-1]).parent)
    # Outside DEBUG no addendum is issued with support's placeholder contact: a benchmark's own.
    settings.SUPPORT_PHONE, settings.SUPPORT_EMAIL = "+45 44 60 10 00", "opus-support@kmd.example"
    call_command("seed_demo", "--force", stdout=io.StringIO())
    return Addendum.objects.select_related("order").get(order__external_system__name="Aarhus Fraværsoverblik")


OURS = "ours (PDF/A-3a)"


def main() -> None:
    from pypdf import PdfReader
    from weasyprint import HTML

    from ordering import documents

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        addendum = build_addendum()
        html = documents.addendum_html(addendum)
        variants = {
            OURS: lambda: documents.html_to_pdf(html),
            "bare WeasyPrint": lambda: HTML(string=html, url_fetcher=documents.StaticFilesOnly()).write_pdf(),
        }
        for render in variants.values():  # warm-up: font loading, caches
            render()
        results = {}
        for _ in range(runs):
            for name, render in variants.items():  # interleaved, so drift hits both alike
                started = time.perf_counter()
                pdf = render()
                results.setdefault(name, []).append((time.perf_counter() - started, pdf))
        for name, samples in results.items():
            pdf = samples[-1][1]
            pages = len(PdfReader(io.BytesIO(pdf)).pages)
            median = statistics.median(t for t, _ in samples)
            print(f"{name:<18} median {median * 1000:7.1f} ms   {len(pdf):>7,} bytes   {pages} pages")
        ours = statistics.median(t for t, _ in results[OURS])
        bare = statistics.median(t for t, _ in results["bare WeasyPrint"])
        print(f"ratio ours/bare: {ours / bare:.2f}× (target ≤ 1.2×), runs={runs}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
