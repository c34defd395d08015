"""Benchmark: how long `manage.py check_certificate_bundle` takes as a whole process.

Run: .venv/bin/python bench/bench_cli.py [--runs 7]
No database is needed (the command reads none; DATABASE_URL is passed through unchanged if set).
It makes a look-alike OCES3 chain and its trust anchors in a temporary directory, then times, as
fresh processes, `python manage.py check_certificate_bundle <bundle>` and the floor any command
pays, `python -c "import django; django.setup()"` with the project's settings, and prints both
medians and their ratio (goal: at most 1.5). Both are interleaved, so drift hits them alike.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from certificates.testing import make_leaf, make_pki, pem, zip_bytes  # noqa: E402


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)  # noqa: S603 - our own commands
    elapsed = time.perf_counter() - started
    if result.returncode != 0 or result.stderr:  # a command says nothing on stderr when all is well: no banners
        raise SystemExit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    pki = make_pki()
    with tempfile.TemporaryDirectory() as tmp:
        trust = Path(tmp) / "trust"
        trust.mkdir()
        (trust / "rod.pem").write_bytes(pem(pki.root))
        (trust / "udstedende.pem").write_bytes(pem(pki.issuing))
        bundle = Path(tmp) / "kaede.zip"
        bundle.write_bytes(zip_bytes({"kaede.pem": pem(make_leaf(pki), pki.issuing, pki.root)}))
        env = {
            "OPUS_DEVELOPMENT_KEYS": "1",  # a throw-away machine: the published development keys
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "OCES3_TEST_EXTRA_TRUST_DIRS": str(trust),
        }
        commands = {
            "django.setup()": [sys.executable, "-c", "import django; django.setup()"],
            "check_certificate_bundle": [sys.executable, "manage.py", "check_certificate_bundle", str(bundle)],
        }
        for command in commands.values():  # warm-up: the OS's file cache, .pyc files
            timed(command, env)
        timings: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, command in commands.items():
                timings[name].append(timed(command, env))
    medians = {name: statistics.median(values) for name, values in timings.items()}
    print(f"runs={runs}, python={sys.version.split()[0]}")
    for name, median in medians.items():
        print(f"{name:<26} median {median * 1000:7.0f} ms  (min {min(timings[name]) * 1000:.0f} ms)")
    ratio = medians["check_certificate_bundle"] / medians["django.setup()"]
    print(f"ratio                      {ratio:.2f}×  (goal ≤ 1.5×)")


if __name__ == "__main__":
    main()
