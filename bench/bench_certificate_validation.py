"""Benchmark: validating a three-certificate OCES3-shaped bundle, and refusing a zip bomb and an armour flood.

Run: .venv/bin/python bench/bench_certificate_validation.py [--runs 200]
Prints the median and 95th percentile per validation, for a .pem and a .zip of leaf + issuing CA
+ root, for a 20 MB zip bomb (with the bytes it decompressed), and for a 1 MB .pem of nothing but empty
certificate blocks (about 19,000: each armour line is placed among the blocks by bisection; comparing each
with every block took 23 s on this machine). Pure core only: no database.
"""

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from certificates.testing import make_leaf, make_pki, pem, zip_bytes  # noqa: E402
from certificates.validation import TrustAnchors, inspect_bundle  # noqa: E402


def measure(label: str, data: bytes, filename: str, trust: TrustAnchors, runs: int) -> None:
    timings, report = [], None
    for _ in range(runs):
        start = time.perf_counter()
        report = inspect_bundle(data, filename, trust=trust, at=datetime.now(UTC))
        timings.append(time.perf_counter() - start)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"{label:<34} {len(data):>9,} B  median {statistics.median(timings) * 1000:7.2f} ms  "
        f"p95 {p95 * 1000:7.2f} ms  valid={report.valid}  codes={report.codes()}  "
        f"decompressed={report.decompressed_bytes:,} B"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    runs = parser.parse_args().runs
    pki = make_pki()
    leaf = make_leaf(pki)
    trust = TrustAnchors("test", (pki.root,), (pki.issuing,))
    chain = pem(leaf, pki.issuing, pki.root)
    print(f"runs={runs}, python={sys.version.split()[0]}")
    measure("3-certificate chain, .pem", chain, "kaede.pem", trust, runs)
    measure("3-certificate chain, .pem in .zip", zip_bytes({"kaede.pem": chain}), "kaede.zip", trust, runs)
    measure("zip bomb (20 MB of zeros)", zip_bytes({"kaede.pem": b"\0" * 20_000_000}), "bombe.zip", trust, runs)
    empty_block = b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"
    flood = empty_block * (1024 * 1024 // len(empty_block))
    measure("1 MB of empty certificate blocks", flood, "flood.pem", trust, max(1, runs // 20))


if __name__ == "__main__":
    main()
