"""Benchmark: the monthly billing run for 100 customers × 50 accesses × 12 months.

Run against a throw-away database, e.g.:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opus_adgang_bench .venv/bin/python bench/bench_billing.py
(SQLite works too, without DATABASE_URL.) It creates the test database itself (Django's test
runner machinery), fills it with 5,000 accesses, each with a package fee and a one-time charge,
some closed mid-year, runs the billing for each month of 2026, and prints time and query count
per run (the median of --repeat 3 such years). The query count must not grow with the number of
lines, and December, with a year of billed lines behind it, must cost at most 1.3× January per
invoice line: a run reads only what it bills (billing.models.RecurringFee.billed_until).
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# A benchmark fills a throw-away database: the published development keys, as the test suite uses them.
os.environ.setdefault("OPUS_DEVELOPMENT_KEYS", "1")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

CUSTOMERS, ACCESSES, MONTHS = 100, 50, 12


def populate() -> None:
    from accounts.models import User
    from bench.common import customers as bench_customers
    from billing.models import Charge, PriceList, RecurringFee
    from ordering.models import AccessOrder, ExternalSystem, Vendor

    rng = random.Random(42)
    PriceList.objects.create(
        name="Bench",
        effective_from=datetime.date(2020, 1, 1),
        setup_fee=Decimal("7500"),
        startup_package_price=Decimal("35000"),
        consulting_hourly_rate=Decimal("1450"),
    )
    manager = User.objects.create(username="am", is_staff=True)
    vendor = Vendor.objects.create(name="Bench A/S", cvr="31415926")
    system = ExternalSystem.objects.create(name="Bench", vendor=vendor, category="other", is_standard=True)
    customers = bench_customers(CUSTOMERS, name="Kommune {}", first_cvr=10000000, account_manager=manager)
    orders = AccessOrder.objects.bulk_create(
        [
            AccessOrder(
                customer=c,
                external_system=system,
                purchase_model="single",
                environment="production",
                integration_type="standard",
                state="active",
                created_by=manager,
                requisition_number=f"R{j}",
            )
            for c in customers
            for j in range(ACCESSES)
        ]
    )
    fees, charges = [], []
    for order in orders:
        start = datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randrange(0, 200))
        end = start + datetime.timedelta(days=rng.randrange(1, 300)) if rng.random() < 0.3 else None
        of_order = {"customer_id": order.customer_id, "order": order}
        fees.append(
            RecurringFee(
                **of_order,
                kind="package",
                description_da="Pakke",
                description_en="Package",
                monthly_fee=Decimal("3900.00"),
                starts_on=start,
                ends_on=end,
            )
        )
        charges.append(
            Charge(
                **of_order,
                kind="one_time",
                rule="setup_fee",
                description_da="Opsætning",
                description_en="Setup",
                amount=Decimal("7500.00"),
                booked_on=start,
                recorded_by=manager,
            )
        )
    RecurringFee.objects.bulk_create(fees, batch_size=500)
    Charge.objects.bulk_create(charges, batch_size=500)


def main() -> None:
    from billing.models import InvoiceLine
    from billing.services import billing_run

    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3, help="fill and bill the year this many times")
    repeat = parser.parse_args().repeat
    setup_test_environment()
    runs: dict[int, list[tuple[float, int, int, int]]] = {month: [] for month in range(1, MONTHS + 1)}
    for repetition in range(repeat):
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            started = time.perf_counter()
            populate()
            if repetition == 0:
                print(
                    f"{connection.vendor}: {CUSTOMERS} customers × {ACCESSES} accesses, filled in "
                    f"{time.perf_counter() - started:.1f} s; median of {repeat} years"
                )
            for month in range(1, MONTHS + 1):
                lines_before = InvoiceLine.objects.count()
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    billing_run(period=datetime.date(2026, month, 1), force=True)  # made-up months, maybe not ended
                    elapsed = time.perf_counter() - started
                lines = InvoiceLine.objects.count() - lines_before
                inserts = sum(q["sql"].startswith("INSERT") for q in queries.captured_queries)
                runs[month].append((elapsed, len(queries.captured_queries), inserts, lines))
            if repetition == repeat - 1:
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    billing_run(period=datetime.date(2026, 12, 1), force=True)
                rerun = (time.perf_counter() - started, len(queries.captured_queries), InvoiceLine.objects.count())
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
    per_line = {}
    for month, measured in runs.items():
        elapsed = statistics.median(m[0] for m in measured)
        _, queries, inserts, lines = measured[0]  # the same every year: the data is seeded
        per_line[month] = elapsed / lines
        print(
            f"2026-{month:02d}: {elapsed:6.2f} s, {queries:3d} queries ({inserts} inserts), {lines:5d} lines, "
            f"{per_line[month] * 1e6:4.0f} µs a line"
        )
    print(f"rerun 2026-12: {rerun[0]:.2f} s, {rerun[1]} queries, {rerun[2]} lines in all (unchanged)")
    print(
        f"per invoice line: January {per_line[1] * 1e6:.0f} µs, December {per_line[12] * 1e6:.0f} µs: "
        f"December/January {per_line[12] / per_line[1]:.2f}× (goal ≤ 1.3×)"
    )


if __name__ == "__main__":
    main()
