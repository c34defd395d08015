"""gunicorn configuration for the load benchmark only: each request's CPU time in the worker, per page.

`pre_request` notes the worker's process CPU time (user + system) and the wall clock; `post_request`, which
gunicorn calls after the response was written, appends one tab-separated line to `$BENCH_CPU_LOG.<pid>`:
the page's name, its method, status, CPU milliseconds, wall milliseconds and the time it ended. The name is the `X-Bench-Name`
header the locustfile sends (its own name for the request), so the CPU figures and Locust's latencies line
up page by page; a request without one is named by its path. A sync worker serves one request at a time, so
the process's CPU time between the two hooks is that request's, whatever else runs on the machine.

Everything else is gunicorn's command line, as README.md's production command has it.
"""

import os
import time


def pre_request(worker, req):
    req.bench_started = (time.process_time(), time.perf_counter())


def post_request(worker, req, environ, resp):
    cpu0, wall0 = getattr(req, "bench_started", (None, None))
    if cpu0 is None:
        return
    cpu_ms = (time.process_time() - cpu0) * 1000
    wall_ms = (time.perf_counter() - wall0) * 1000
    name = dict(req.headers).get("X-BENCH-NAME") or req.path
    status = getattr(resp, "status_code", None) or "-"
    log = getattr(worker, "bench_cpu_log", None)
    if log is None:
        log = worker.bench_cpu_log = open(f"{os.environ['BENCH_CPU_LOG']}.{os.getpid()}", "a", buffering=1)  # noqa: SIM115
    log.write(f"{name}\t{req.method}\t{status}\t{cpu_ms:.3f}\t{wall_ms:.3f}\t{time.time():.3f}\n")
