"""Load benchmark: the demo's people at work against production's processes, and each page's CPU per request.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/opus_load .venv/bin/python bench/bench_load.py

What it does, from nothing and back to nothing:

1. drops and creates the database DATABASE_URL names (never anything else: its name must start with `opus_load`),
   migrates it and loads the demo data (`seed_demo`, as `make run` does);
2. collects the static files and starts what README.md's "Run it in production" starts, without DJANGO_DEBUG:
   gunicorn with 2 × cores + 1 sync workers, a Celery worker (concurrency = cores) and beat, on a Redis database
   number of the benchmark's own (`--broker`, default redis://127.0.0.1:6379/13, emptied before and after) so
   that no other process's worker takes its tasks or it theirs;
3. runs Locust headless (bench/load/locustfile.py) with `--users` people, spawned over `--ramp` seconds, then
   measured for `--time` seconds (statistics reset when all have started);
4. prints requests per second, p50/p95/p99 and failures per page and in total, and each page's server CPU per
   request (mean, p50, p90, from the gunicorn hooks in bench/load/gunicorn_cpu.py) over the measured window;
5. stops every process it started and drops the database (`--keep` keeps it, and the work directory with the
   logs and Locust's CSV files).

The CPU figures are the reliable ones on a shared machine: a request's CPU time in its worker does not grow
when other processes take the cores, while latencies and requests per second do. Locust itself runs on the
same machine and takes part of one core.
"""

import argparse
import csv
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/opus_load"
DEFAULT_BROKER = "redis://127.0.0.1:6379/13"
# Goals from issue #23 for this 2-core machine at demo size.
GOAL_RPS, GOAL_P99_MS, GOAL_CPU_MS = 60, 500, 15


def server_env(database_url: str, broker: str, work: Path) -> dict:
    """Production's environment (README.md), with the published development keys: a throw-away database."""
    return {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_DEBUG"},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker,
        "SECRET_KEY": "bench-load-secret-key-not-for-production-" + "x" * 20,
        "OPUS_DEVELOPMENT_KEYS": "1",
        "ALLOWED_HOSTS": "127.0.0.1",
        "PASSWORD_LOGIN": "all",  # the demo's people log in with the password form
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on the loopback; production has TLS at the proxy
        "SECURE_COOKIES": "0",
        "SECURE_HSTS_SECONDS": "0",
        "PRIVATE_STORAGE_ROOT": str(work / "private"),
        "STATIC_ROOT": str(work / "static"),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",  # the worker sends into memory
        "BENCH_CPU_LOG": str(work / "cpu.log"),
    }


def manage(env: dict, *args: str, debug: bool = False) -> None:
    env = {**env, "DJANGO_DEBUG": "1"} if debug else env
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)  # noqa: S603
    if done.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")


def recreate_database(database_url: str) -> None:
    import psycopg

    url = urlparse(database_url)
    name = url.path.lstrip("/")
    if not name.startswith("opus_load"):
        raise SystemExit(f"Refusing to drop {name!r}: the benchmark's database must be named opus_load…")
    admin = urlunparse(url._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(database_url: str) -> None:
    import psycopg

    url = urlparse(database_url)
    with psycopg.connect(urlunparse(url._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.path.lstrip("/")}" WITH (FORCE)')


def empty_broker(broker: str) -> None:
    import redis

    redis.Redis.from_url(broker).flushdb()  # the benchmark's own database number only


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn stopped:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=5) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer /healthz within 60 s:\n{log.read_text(errors='replace')[-3000:]}")


# Where the machine's cores go while it is measured: every process's CPU time from /proc, grouped by what it runs.
GROUPS = (
    ("gunicorn", "gunicorn"),
    ("postgres", "PostgreSQL"),
    ("locust", "Locust"),
    ("celery", "Celery worker and beat"),
)
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_snapshot() -> tuple[dict[int, tuple[str, float]], float, float]:
    """Each process's (group, CPU seconds so far), the machine's busy and all CPU seconds so far (/proc/stat)."""
    processes = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile
            continue
        group = next((label for needle, label in GROUPS if needle in command), "everything else")
        processes[int(entry.name)] = (group, (int(fields[11]) + int(fields[12])) / TICKS)  # utime + stime
    user, nice, system, idle, iowait, irq, softirq, steal = (
        int(v) for v in Path("/proc/stat").read_text().split()[1:9]
    )
    busy = user + nice + system + irq + softirq + steal
    return processes, busy / TICKS, (busy + idle + iowait) / TICKS


def cores_used(before, after, seconds: float) -> dict[str, float]:
    """Cores each group used between two snapshots (a process started meanwhile counts from 0), and the machine's."""
    used: dict[str, float] = {}
    for pid, (group, cpu) in after[0].items():
        earlier = before[0].get(pid, (group, 0.0))[1]
        used[group] = used.get(group, 0.0) + (cpu - earlier) / seconds
    used["the whole machine"] = (after[1] - before[1]) / seconds
    used["cores"] = (after[2] - before[2]) / seconds
    return used


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def cpu_per_page(work: Path, since: float) -> dict[str, list[float]]:
    """Each page's CPU milliseconds per request, from the gunicorn workers' logs, for requests ended after `since`."""
    pages: dict[str, list[float]] = {}
    for log in work.glob("cpu.log.*"):
        for line in log.read_text().splitlines():
            name, method, status, cpu_ms, _wall_ms, ended = line.split("\t")
            if float(ended) >= since:
                pages.setdefault(name, []).append(float(cpu_ms))
    return pages


def report(work: Path, cpu: dict[str, list[float]], seconds: float) -> bool:
    rows = list(csv.DictReader(open(work / "locust_stats.csv")))  # noqa: SIM115
    total = next(r for r in rows if r["Name"] == "Aggregated")
    width = max(len(r["Name"]) for r in rows) + 2
    print(f"\n{'page':<{width}}{'requests':>9}{'fails':>7}{'req/s':>8}{'p50':>7}{'p95':>7}{'p99':>7}   ms")
    for r in sorted(rows, key=lambda r: (r["Name"] == "Aggregated", r["Name"])):
        print(
            f"{r['Name']:<{width}}{r['Request Count']:>9}{r['Failure Count']:>7}{float(r['Requests/s']):>8.1f}"
            f"{r['50%']:>7}{r['95%']:>7}{r['99%']:>7}"
        )
    failures = list(csv.DictReader(open(work / "locust_failures.csv")))  # noqa: SIM115
    for f in failures:
        print(f"  failure: {f['Method']} {f['Name']}: {f['Error']} × {f['Occurrences']}")

    print(f"\n{'server CPU per request (ms)':<{width}}{'n':>7}{'mean':>8}{'p50':>8}{'p90':>8}")
    heavy = []
    for name in sorted(cpu, key=lambda n: -statistics.mean(cpu[n])):
        values = cpu[name]
        mean, p90 = statistics.mean(values), percentile(values, 90)
        print(f"{name:<{width}}{len(values):>7}{mean:>8.1f}{percentile(values, 50):>8.1f}{p90:>8.1f}")
        if mean > GOAL_CPU_MS and name not in ("login (POST)", "login page"):
            heavy.append(name)
    all_cpu = [v for values in cpu.values() for v in values]
    busy = sum(all_cpu) / 1000
    print(
        f"{'all requests':<{width}}{len(all_cpu):>7}{statistics.mean(all_cpu):>8.1f}{percentile(all_cpu, 50):>8.1f}"
        f"{percentile(all_cpu, 90):>8.1f}"
    )
    print(f"gunicorn workers' CPU: {busy:.1f} s in {seconds:.0f} s ({busy / seconds:.2f} cores)")
    if "login (POST)" in cpu:
        # The same work every time (Django's PBKDF2, 1,000,000 iterations): a yardstick for the machine's state.
        print(
            f"login (POST), always the same work (PBKDF2): {statistics.mean(cpu['login (POST)']):.0f} ms; where it is "
            "higher than on a quiet machine, contention (shared cores, steal) inflated every CPU figure alike"
        )

    rps, p99 = float(total["Requests/s"]), float(total["99%"])
    fails = int(total["Failure Count"])
    print(
        f"\nTotal: {rps:.1f} req/s (goal ≥ {GOAL_RPS}), p50 {total['50%']} ms, p95 {total['95%']} ms, p99 {p99:.0f} ms"
        f" (goal ≤ {GOAL_P99_MS}), {fails} failures (goal 0); pages over {GOAL_CPU_MS} ms CPU: {len(heavy)}"
    )
    return rps >= GOAL_RPS and p99 <= GOAL_P99_MS and fails == 0 and not heavy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--ramp", type=int, default=10, help="seconds over which the users start")
    parser.add_argument("--time", type=int, default=60, help="seconds measured after the ramp")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn's (README)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--broker", default=DEFAULT_BROKER, help="a Redis database number of the benchmark's own")
    parser.add_argument("--keep", action="store_true", help="keep the database and the work directory (logs, CSV)")
    parser.add_argument("--reuse", action="store_true", help="use the database as it is (a --keep run's)")
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE
    work = Path(tempfile.mkdtemp(prefix="opus-load-"))
    (work / "private").mkdir()
    env = server_env(database_url, args.broker, work)
    url = f"http://127.0.0.1:{args.port}"
    started = time.monotonic()
    if not args.reuse:
        recreate_database(database_url)
        manage(env, "migrate", "--no-input")
        manage({**env, "CELERY_BROKER_URL": ""}, "seed_demo", debug=True)
    manage(env, "collectstatic", "--no-input")
    empty_broker(args.broker)
    print(
        f"Database {urlparse(database_url).path[1:]} ready, static files collected: {time.monotonic() - started:.0f} s"
    )

    processes = []
    try:
        processes.append(
            start(
                [
                    str(BIN / "celery"),
                    "-A",
                    "config",
                    "worker",
                    "-n",
                    f"load-{os.getpid()}@%h",
                    "--queues",  # one worker for both queues here; production runs one per queue (README.md)
                    "celery,webhooks",
                    "--concurrency",
                    str(os.cpu_count() or 1),
                ],
                env,
                work / "worker.log",
            )
        )
        processes.append(
            start(
                [str(BIN / "celery"), "-A", "config", "beat", "--schedule", str(work / "beat-schedule")],
                env,
                work / "beat.log",
            )
        )
        gunicorn = start(
            [
                str(BIN / "gunicorn"),
                "config.wsgi",
                "--config",
                str(ROOT / "bench" / "load" / "gunicorn_cpu.py"),
                "--bind",
                f"127.0.0.1:{args.port}",
                "--workers",
                str(args.workers),
                "--timeout",
                "60",
                "--no-control-socket",
            ],
            env,
            work / "gunicorn.log",
        )
        processes.append(gunicorn)
        wait_until_up(url, gunicorn, work / "gunicorn.log")
        print(
            f"gunicorn ({args.workers} workers), Celery worker and beat up; {args.users} users, "
            f"{args.ramp} s ramp, {args.time} s measured"
        )
        measured_from = time.time() + args.ramp
        locust = [
            str(BIN / "locust"),
            "-f",
            str(ROOT / "bench" / "load" / "locustfile.py"),
            "--headless",
            "--host",
            url,
            "--users",
            str(args.users),
            "--spawn-rate",
            str(args.users / max(args.ramp, 1)),
            "--run-time",
            f"{args.ramp + args.time}s",
            "--reset-stats",  # the measured window starts when every user has started
            "--only-summary",
            "--csv",
            str(work / "locust"),
            "--loglevel",
            "WARNING",
            "--stop-timeout",
            "5",
        ]
        # The machine's CPU by process at the window's start and just before its end, while Locust still runs.
        snapshots: list[tuple[float, tuple]] = []
        timers = [
            threading.Timer(at, lambda: snapshots.append((time.monotonic(), cpu_snapshot())))
            for at in (args.ramp, args.ramp + args.time - 1)
        ]
        for timer in timers:
            timer.start()
        with open(work / "locust.log", "wb") as out:
            subprocess.run(locust, cwd=ROOT, check=False, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
        for timer in timers:
            timer.cancel()
        measured = time.time() - measured_from
    finally:
        for process in reversed(processes):
            stop(process)
        empty_broker(args.broker)
    ok = report(work, cpu_per_page(work, measured_from), measured)
    if len(snapshots) == 2:
        (started_at, first), (ended_at, last) = snapshots
        machine = cores_used(first, last, ended_at - started_at)
        cores = machine.pop("cores")
        print(f"\nWhere the machine's {cores:.0f} cores went while measured (cores in use):")
        for group, n in sorted(machine.items(), key=lambda item: -item[1]):
            print(f"  {group:<28}{n:5.2f}")
    if args.keep:
        print(f"\nKept: database {database_url}, work directory {work}")
    else:
        drop_database(database_url)
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
