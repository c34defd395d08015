"""Where a page's CPU goes: cProfile of pages requested in-process, as production settings serve them.

Run against the database a load benchmark kept (bench/bench_load.py --keep), or any demo database:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opus_load .venv/bin/python bench/profile_pages.py
    … bench/profile_pages.py --page "kundeansvarlig /orders/?state=active" --top 40

Each page (a demo login and a path) is requested through the whole middleware stack with Django's test client,
logged in, without DJANGO_DEBUG (the cached template loader, no SQL kept, the static files collected once into
$STATIC_ROOT, opus-profile-static in the temporary directory by default): a few times to warm the caches, then
`--runs` times as they are and `--runs` times under cProfile. Printed per page: CPU ms per request (process time, as the load benchmark's
gunicorn hook measures it), the queries, and the CPU split into where it goes (cumulative, so the parts overlap
where one calls another: template rendering contains the queries its lazy querysets run); then with --top, the
project's functions with the most cumulative time and any functions with the most own time. The shares are
of wall time under the profiler, so the SQL's includes waiting for the database.
"""

import argparse
import cProfile
import io
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT_CODE = rf"^{ROOT}/(?!\.venv/)"
sys.path.insert(0, str(ROOT))
os.environ.pop("DJANGO_DEBUG", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("OPUS_DEVELOPMENT_KEYS", "1")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
os.environ.setdefault("SECRET_KEY", "bench-profile-secret-key-not-for-production-" + "x" * 20)
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SECURE_COOKIES", "0")
os.environ.setdefault("PASSWORD_LOGIN", "all")
# Production's static storage needs the collected files' manifest: collected once into a directory of its own.
os.environ.setdefault("STATIC_ROOT", str(Path(tempfile.gettempdir()) / "opus-profile-static"))

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

# The pages the load benchmark found dearest at demo size (`login path`, and ` htmx` for a request htmx sends);
# `{order}` is the order the user changed last, `{draft}` their last changed draft.
PAGES = [
    "kundeansvarlig /orders/{order}/",
    "bestiller /orders/{order}/",
    "bestiller /orders/{draft}/edit/",
    "kundeansvarlig /",
    "tegner /",
    "support /",
    "kundeansvarlig /orders/?state=active",
    "kundeansvarlig /billing/runs/",
    "bestiller /orders/new/",
    "support /?target=support&q=Aarhus htmx",
]

# Where the milliseconds go: (label, module path fragment, function name) of frames whose cumulative time is read.
WORKLISTS = "worklists (worklists_of, their counts, the start page's first orders)"
PARTS = [
    ("the view (with its template)", "django/core/handlers/base.py", "_get_response"),
    ("template rendering (incl. lazy queries)", "django/template/response.py", "render"),
    ("template rendering (incl. lazy queries)", "django/shortcuts.py", "render"),
    ("the menu's badge (count_waiting)", "config/context_processors.py", "count_waiting"),
    (WORKLISTS, "ordering/selectors.py", "worklists_of"),
    (WORKLISTS, "ordering/selectors.py", "worklist_counts"),
    (WORKLISTS, "ordering/selectors.py", "worklists_shown"),
    ("order page: billing section (live quote)", "billing/selectors.py", "billing_section"),
    ("queryset building (filter, exclude, annotate)", "django/db/models/query.py", "_filter_or_exclude"),
    ("queryset building (filter, exclude, annotate)", "django/db/models/query.py", "_annotate"),
    ("SQL compilation (as_sql)", "django/db/models/sql/compiler.py", "as_sql"),
    ("SQL execution (driver + database)", "django/db/backends/utils.py", "_execute"),
    ("model instances from rows", "django/db/models/base.py", "from_db"),
    ("forms: rendering fields", "django/forms/boundfield.py", "__str__"),
    ("forms: validation", "django/forms/forms.py", "full_clean"),
    ("session load + save", "django/contrib/sessions/backends/db.py", "load"),
    ("session load + save", "django/contrib/sessions/backends/db.py", "save"),
    ("gettext", "django/utils/translation/trans_real.py", "gettext"),
    ("url reversing", "django/urls/base.py", "reverse"),
]


def first_order(user, *, drafts: bool = False) -> int:
    from ordering.models import State
    from ordering.selectors import orders_visible_to

    orders = orders_visible_to(user).order_by("-updated_at")
    if drafts:
        orders = orders.filter(state=State.DRAFT)
    return orders.values_list("pk", flat=True).first()


def warmed_up(spec: str) -> tuple[Client, str, str]:
    """The page's client, logged in as its user, and its path, after 3 requests that warm the caches (templates
    compiled, translations and URL resolvers loaded); and the user's name."""
    from accounts.models import User

    username, path, *htmx = spec.split(" ")
    user = User.objects.get(username=username)
    path = path.format(order=first_order(user), draft=first_order(user, drafts=True))
    client = Client(HTTP_HOST="127.0.0.1", **({"HTTP_HX_REQUEST": "true"} if htmx == ["htmx"] else {}))
    client.force_login(user)
    for _ in range(3):
        assert client.get(path).status_code == 200, f"{spec}: {client.get(path).status_code}"
    return client, path, username


def profile(spec: str, runs: int, top: int) -> None:
    client, path, username = warmed_up(spec)
    queries = []
    with connection.execute_wrapper(lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
        client.get(path)
    started = time.process_time()
    for _ in range(runs):
        client.get(path)
    cpu_ms = (time.process_time() - started) * 1000 / runs
    # Profiled separately: cProfile slows the code several times over, so its figures are read as shares of the
    # profiled total and shown in the unprofiled request's milliseconds.
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        client.get(path)
    profiler.disable()
    stats = pstats.Stats(profiler)
    print(f"\n== {username} {path}: {cpu_ms:.1f} ms CPU per request, {len(queries)} queries")
    parts: dict[str, float] = {}
    for (filename, _line, function), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items():
        for label, fragment, name in PARTS:
            if function == name and filename.endswith(fragment):
                parts[label] = parts.get(label, 0.0) + cumulative
    parts["outside the view: middleware, session, test client"] = stats.total_tt - parts.get(
        "the view (with its template)", 0
    )
    for label, seconds in sorted(parts.items(), key=lambda item: -item[1]):
        share = seconds / stats.total_tt
        print(f"   {share:4.0%} ≈ {share * cpu_ms:5.1f} ms  {label}")
    if top:
        # The project's own functions by cumulative time (which of them the page's time is spent under), then any
        # function by its own time (where the time is finally spent).
        for order, restriction in (("cumulative", PROJECT_CODE), ("tottime", "")):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(restriction, top)
            print(out.getvalue().split("\n", 6)[-1].replace(str(ROOT) + "/", "").rstrip())


def requests_only(spec: str, runs: int) -> None:
    """The page warmed up and then requested `runs` more times, nothing else: what --instructions counts."""
    client, path, _username = warmed_up(spec)
    for _ in range(runs):
        assert client.get(path).status_code == 200, spec


def instructions(spec: str, runs: int) -> None:
    """Millions of instructions per request of the page: callgrind's count of `runs` requests less that of none."""
    counts = []
    for n in (0, runs):
        done = subprocess.run(  # noqa: S603  (the benchmark's own command line: its page spec is an argument, no shell)
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__]
            + ["--requests", str(n), "--page", spec],
            env={**os.environ, "PYTHONHASHSEED": "0"},
            capture_output=True,
            text=True,
            check=True,
        )
        counts.append(int(re.search(r"Collected : (\d+)", done.stderr).group(1)))
    print(f"{spec}: {(counts[1] - counts[0]) / runs / 1e6:.0f} M instructions per request")


def collect_static() -> None:
    from django.conf import settings
    from django.core.management import call_command

    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        call_command("collectstatic", "--no-input", verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--page", action="append", help="`login path [htmx]`; repeatable (default: the dearest pages)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--top", type=int, default=0, help="also print this many functions by cumulative/own time")
    parser.add_argument("--instructions", action="store_true", help="count instructions per request (callgrind)")
    parser.add_argument("--requests", type=int, help=argparse.SUPPRESS)  # the counted process --instructions starts
    args = parser.parse_args()
    collect_static()
    if args.requests is not None:
        requests_only(args.page[0], args.requests)
        return
    if args.instructions and not shutil.which("valgrind"):
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind).")
    for spec in args.page or PAGES:
        if args.instructions:
            instructions(spec, args.runs)
        else:
            profile(spec, args.runs, args.top)


if __name__ == "__main__":
    main()
