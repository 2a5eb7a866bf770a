"""`make bench`: pages served by gunicorn, each figure next to the bare-Django floor of the same run.

devstack starts throw-away PostgreSQL and Redis and passes DATABASE_URL / REDIS_URL. This script
migrates, seeds the demo, grows the demo tenant to BENCH_STAFF staff, collects static files,
starts two gunicorn servers with the same worker settings — the project, and a bare Django
project on the same database (tests/bench/floor.py) — and measures both with the same client:

- latency: one client, sequential requests, p50 / p95;
- throughput: 8 clients without think time for a fixed duration, requests per second.

    make bench                      # defaults
    make bench ARGS="--seconds 20"  # longer throughput runs
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
BENCH_STAFF = 200


def sh(*args, env=None):
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, env: dict, settings: str, workers: int):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [PY, "-m", "gunicorn", "crm.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(workers), "--log-level", "warning"],
            cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": settings},
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                get(self.port, "/healthz" if settings == "crm.settings" else "/floor/hello", {})
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn ({settings}) did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def get(port: int, path: str, cookies: dict, conn: http.client.HTTPConnection | None = None) -> int:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), "Host": "127.0.0.1"}
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    response.read()
    if own:
        conn.close()
    if response.status != 200:
        raise AssertionError(f"GET {path} answered {response.status}")
    return response.status


def latency(port: int, path: str, cookies: dict, requests: int) -> tuple[float, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(10):  # warm-up
        get(port, path, cookies, conn)
    samples = []
    for _ in range(requests):
        start = time.perf_counter()
        get(port, path, cookies, conn)
        samples.append((time.perf_counter() - start) * 1000)
    conn.close()
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def throughput(port: int, path: str, cookies: dict, clients: int, seconds: float) -> float:
    done = [0] * clients
    stop_at = time.monotonic() + seconds

    def run(i):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop_at:
            get(port, path, cookies, conn)
            done[i] += 1
        conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / seconds


def session_cookie(env: dict, username: str) -> dict:
    out = subprocess.run(
        [PY, "-c", "import django; django.setup(); from tests.bench.floor import login_session; "
                   f"print(login_session({username!r}))"],
        cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "crm.settings"}, check=True, capture_output=True, text=True,
    ).stdout.strip().splitlines()[-1]
    return {"sessionid": out}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300, help="sequential requests per latency figure")
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each throughput run")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (the machine has 2 cores)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="crm-static-") as static_root:
        env = {**os.environ, "DEBUG": "0", "STATIC_ROOT": static_root, "SECURE_SSL_REDIRECT": "0",
               "SECURE_COOKIES": "0", "SECURE_HSTS_SECONDS": "0", "ALLOWED_HOSTS": "127.0.0.1",
               "LOG_LEVEL": "WARNING"}
        print("preparing: migrate, seed_demo, grow demo to", BENCH_STAFF, "staff, collectstatic", flush=True)
        sh("migrate", "--no-input", env=env)
        sh("seed_demo", env=env)
        subprocess.run([PY, "-c", "import django; django.setup(); from tests.bench.floor import grow_demo; "
                                  f"grow_demo({BENCH_STAFF})"],
                       cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "crm.settings"}, check=True)
        sh("collectstatic", "--no-input", env=env)

        app = Server(env, "crm.settings", args.workers)
        floor = Server(env, "tests.bench.floor_settings", args.workers)
        try:
            cookies = session_cookie(env, "demo.director")
            rows = []
            floors = {}
            for name, path in (("bare view", "/floor/hello"), ("bare detail page", "/floor/detail"),
                               ("bare 50-row list", "/floor/list")):
                p50, p95 = latency(floor.port, path, cookies, args.requests)
                rps = throughput(floor.port, path, cookies, args.clients, args.seconds)
                floors[name] = (p50, p95, rps)
            pages = [
                ("home /", "/", "bare detail page"),
                (f"org chart /org/ ({BENCH_STAFF} staff)", "/org/", "bare 50-row list"),
                ("health /healthz", "/healthz", "bare view"),
            ]
            for name, path, floor_name in pages:
                p50, p95 = latency(app.port, path, cookies, args.requests)
                rps = throughput(app.port, path, cookies, args.clients, args.seconds)
                rows.append((name, p50, p95, rps, floor_name))
        finally:
            app.stop()
            floor.stop()

    print()
    print(f"gunicorn {args.workers} sync workers; latency: {args.requests} sequential requests; "
          f"throughput: {args.clients} clients, {args.seconds:.0f} s, no think time")
    print(f"{'page':38} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>8}   {'floor (same run)':28} "
          f"{'p50':>6} {'p95':>6} {'req/s':>7}  {'p95 x':>6} {'req/s %':>7}")
    for name, p50, p95, rps, floor_name in rows:
        f50, f95, frps = floors[floor_name]
        print(f"{name:38} {p50:8.1f} {p95:8.1f} {rps:8.0f}   {floor_name:28} {f50:6.1f} {f95:6.1f} {frps:7.0f}"
              f"  {p95 / f95:6.1f} {100 * rps / frps:6.0f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
