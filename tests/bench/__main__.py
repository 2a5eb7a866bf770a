"""`make bench`: pages served by gunicorn, each figure next to the bare-Django floor of the same run.

devstack starts throw-away PostgreSQL and Redis and passes DATABASE_URL / REDIS_URL. This script
migrates, seeds the demo (`seed_demo --customers N`: N in demo, N/5 in acme), grows demo to
BENCH_STAFF staff, collects static files, starts two gunicorn servers with the same settings — the
project, and a bare Django project on the same database (tests/bench/floor.py) — and measures:

- latency under load: USERS simulated users, each waiting 1–3 s between requests, p50 / p95;
- throughput at saturation: CLIENTS clients without think time, requests per second;
- the customer list (first page, search by a mobile's last four digits, by name) first at each of
  --list-sizes (100,000 customers: a typical dealer), then at --customers after the demo is topped up,
  each next to the floor at that size and against its target (tests/bench/list_bench.py);
- the customer import of a 100,000-row CSV next to its floor, a COPY of the same rows into the same tables with
  their indexes and constraints through crm/bulk.py (tests/bench/import_bench.py);
- follow-up generation next to a bare INSERT … SELECT, and the call workspace with 200,000 open follow-ups
  and 50 specialists calling (tests/bench/followup_bench.py);
- the survey results page over a year of 500,000 responses, with the other pages under load and cold
  (tests/bench/survey_results_bench.py);
- the role dashboards (tests/bench/dashboard_bench.py): the rollup rebuilt and refreshed, the director's under
  load beside the other pages, every role's cold, the weekly dashboard e-mail to 200 recipients, and a
  segment's profile;
- 100,000 survey invitations queued and sent to the console backend next to one UPDATE per message
  (tests/bench/survey_bench.py);
- the club (tests/bench/club_bench.py): --members members with --entries journal entries each seeded by COPY,
  the member page and a redemption under load next to their floors, the yearly expiry next to a bare
  INSERT … SELECT of its entries, and again (writing nothing). `--only club` runs only this, on a demo of
  --members customers.

Between the preparation (which deletes and rewrites a million rows) and the measurements the database is
vacuumed and analysed, so the pages are measured on a settled database, not beside autovacuum.

    make bench                                       # 1,000,000 customers (seeding takes minutes)
    make bench ARGS="--customers 100000 --seconds 10" # quicker (the list at 100,000 only)
    make bench ARGS="--list-sizes '20000 200000'"      # the list at 20,000, 200,000 and 1,000,000
    make bench ARGS="--only club --members 100000"    # the club alone, 100,000 members (2,000,000 entries)
    make bench ARGS="--only dashboards --customers 100000"  # the role dashboards alone
    make bench ARGS="--only keys --customers 100000"  # generation and import with each shape of the tenant keys,
                                                      # and deleting one customer
    make bench ARGS="--only replica --customers 100000"  # the reports from a hot standby beside the workspace
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from crm.devstack import app_role_create, app_role_url
from tests.bench import club_bench
from tests.bench.api_bench import api_lines
from tests.bench.dashboard_bench import dashboard_lines, dashboard_paths
from tests.bench.followup_bench import generation_lines, workspace_under_load
from tests.bench.keys_bench import delete_lines, keys_lines
from tests.bench.list_bench import BY_DIGITS, BY_NAME, FIRST_PAGE, list_lines, list_paths
from tests.bench.pooler_bench import pooler_lines, rls_lines
from tests.bench.report_bench import report_lines, report_paths
from tests.bench.survey_bench import sending_lines
from tests.bench.survey_results_bench import results_lines, results_paths

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
BENCH_STAFF = 200


def int_list(text: str) -> list[int]:
    return [int(part.replace("_", "").replace(",", "")) for part in text.split() if part] if text else []


def manage(env, *args):
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)


def django_eval(env, code: str) -> str:
    """Run `code` with Django set up; return the last line it prints."""
    done = subprocess.run([PY, "-c", f"import django; django.setup(); {code}"], cwd=ROOT,
                          env={**env, "DJANGO_SETTINGS_MODULE": "crm.settings"}, capture_output=True, text=True)
    if done.returncode:
        sys.stderr.write(done.stderr)
        done.check_returncode()
    out = done.stdout
    return out.strip().splitlines()[-1] if out.strip() else ""


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
             "--workers", str(workers), "--log-level", "warning", "--timeout", "120"],
            cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": settings},
        )
        deadline = time.monotonic() + 60
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


def get(port: int, path: str, cookies: dict, conn: http.client.HTTPConnection | None = None) -> None:
    """GET a page as the cookies' user; {"Authorization": "Bearer …"} in place of cookies calls the API."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    if "Authorization" in cookies:
        headers = {"Authorization": cookies["Authorization"], "Host": "127.0.0.1"}
    else:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), "Host": "127.0.0.1"}
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    response.read()
    if own:
        conn.close()
    if response.status != 200:
        raise AssertionError(f"GET {path} answered {response.status}")


def under_load(port, paths, cookies, users: int, seconds: float,
               think: tuple[float, float] = (1.0, 3.0)) -> tuple[float, float, int]:
    """`users` threads, each: request a random path, wait 1–3 s (`think`: shorter in tests/test_bench.py's
    miniature). Returns p50, p95 (ms), count. Each user's first request is a warm-up, not counted (as in the
    club's and the call workspace's benchmarks): the servers have just started, and a worker's first requests load
    its templates, translations and per-process caches."""
    samples: list[float] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def user(seed):
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        time.sleep(rng.uniform(0, think[1] - think[0]))  # users do not arrive in step
        warming = True
        while time.monotonic() < stop_at:
            start = time.perf_counter()
            get(port, rng.choice(paths), cookies, conn)
            if not warming:
                with lock:
                    samples.append((time.perf_counter() - start) * 1000)
            warming = False
            time.sleep(rng.uniform(*think))
        conn.close()

    threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)], len(samples)


def saturated(port, paths, cookies, clients: int, seconds: float) -> float:
    done = [0] * clients
    stop_at = time.monotonic() + seconds

    def run(i):
        rng = random.Random(i)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < stop_at:
            get(port, rng.choice(paths), cookies, conn)
            done[i] += 1
        conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / seconds


def measure(env, args, cookie, floors: dict, pages: dict, then=None) -> tuple[dict, dict]:
    """Start the project and the floor under gunicorn; measure each floor path, then each page (latency under
    load, then throughput at saturation); `then(app_port)` measures more before the servers stop. Returns
    ({floor name: figures}, {page name: figures}), figures = (p50, p95, n, req/s)."""
    app = Server(env, "crm.settings", args.workers)
    floor = Server(env, "tests.bench.floor_settings", args.workers)
    measured = ({}, {})
    try:
        for (port, named), results in zip(((floor.port, floors), (app.port, pages)), measured, strict=True):
            for name, path in named.items():
                paths = path if isinstance(path, list) else [path]
                results[name] = (*under_load(port, paths, cookie, args.users, args.seconds),
                                 saturated(port, paths, cookie, args.clients, args.saturation_seconds))
                print(f"  measured {name}", flush=True)
        if then is not None:
            then(app.port)
    finally:
        app.stop()
        floor.stop()
    return measured


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=None,
                        help="customers in demo (acme gets N/5); default 1,000,000, with --only club: --members")
    parser.add_argument("--list-sizes", type=int_list, default=[100_000], metavar="'N ...'",
                        help="smaller demo sizes at which the customer list is measured first, before the demo is "
                             "topped up to --customers (default 100000; sizes from --customers up are skipped)")
    parser.add_argument("--seconds", type=float, default=30.0, help="duration of each latency phase")
    parser.add_argument("--saturation-seconds", type=float, default=8.0)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--import-rows", type=int, default=100_000, help="rows of the customer import benchmark")
    parser.add_argument("--upsert-rows", type=int, default=100_000,
                        help="--only api: customers (a vehicle each) bulk-upserted, and imported on the web beside")
    parser.add_argument("--members", type=int, default=1_000_000, help="club members (the demo's first customers)")
    parser.add_argument("--entries", type=int, default=20, help="journal entries per club member")
    parser.add_argument("--only", choices=["all", "club", "dashboards", "api", "pooler", "keys", "replica"],
                        default="all",
                        help="club: only the club benchmark; dashboards: only the role dashboards; api: only the "
                             "REST API; pooler: the customer list and page through PgBouncer and directly; keys: "
                             "generation and import with each shape of the tenant keys, deleting one customer; "
                             "replica: the reports and dashboards from a hot standby while the primary takes the "
                             "call workspace")
    args = parser.parse_args()
    if args.customers is None:
        args.customers = args.members if args.only == "club" else 1_000_000
    args.members = min(args.members, args.customers)  # members are the demo's customers
    if args.only == "club":
        return club_only(args)
    if args.only == "dashboards":
        return dashboards_only(args)
    if args.only == "api":
        return api_only(args)
    if args.only == "pooler":
        return pooler_only(args)
    if args.only == "keys":
        return keys_only(args)
    if args.only == "replica":
        return replica_only(args)

    with tempfile.TemporaryDirectory(prefix="crm-static-") as static_root:
        env = bench_env(static_root)
        sizes = sorted({size for size in args.list_sizes if 0 < size < args.customers})
        steps = " → ".join(f"{size:,}" for size in [*sizes, args.customers])
        print(f"preparing: migrate, collectstatic, seed_demo --customers {steps}, {BENCH_STAFF} staff", flush=True)
        manage(env, "migrate", "--no-input", "-v0")
        manage(env, "collectstatic", "--no-input", "-v0")
        seed_seconds = 0.0
        list_by_size, list_floors = {}, {}
        for size in [*sizes, args.customers]:
            started = time.perf_counter()
            manage(env, "seed_demo", "--customers", str(size))  # tops the demo up to this size
            seed_seconds += time.perf_counter() - started
            django_eval(env, f"from tests.bench.floor import grow_demo; grow_demo({BENCH_STAFF})")
            samples = django_eval(env, "from tests.bench.floor import samples; print(samples())")
            customer_ids, mobiles, names, deep_cursor = eval(samples)  # noqa: S307 - our own repr
            cookie = {"sessionid": django_eval(env, "from tests.bench.floor import login_session; "
                                                    "print(login_session('demo.director'))")}
            if size == args.customers:
                break
            settled = float(django_eval(env, "from tests.bench.floor import settle; print(settle())"))
            print(f"  {size:,} customers: measuring the customer list (VACUUM ANALYZE: {settled:.0f} s)", flush=True)
            floor_figures, list_by_size[size] = measure(env, args, cookie, {"floor list": "/floor/customers"},
                                                        list_paths(mobiles, names))
            list_floors[size] = floor_figures["floor list"]
            # printed now too: a later phase that fails loses only its own figures
            print("\n".join(list_lines({size: list_by_size[size]}, list_floors, args.users)), flush=True)
            print(f"  topping the demo up to {args.customers:,} customers", flush=True)
        print("  measuring follow-up generation", flush=True)
        generation = eval(django_eval(env, "from tests.bench.followup_bench import measure_generation; "  # noqa: S307
                                           "print(repr(measure_generation()))"))
        specialists = eval(django_eval(env, "from tests.bench.followup_bench import prepare_workspace; "  # noqa: S307
                                            "print(repr(prepare_workspace()))"))
        print("  preparing a year of follow-up work for the report", flush=True)
        report = eval(django_eval(env, "from tests.bench.report_bench import prepare_year; "  # noqa: S307
                                       "print(repr(prepare_year()))"))
        print("  preparing a year of survey responses for the results page", flush=True)
        results_data = eval(django_eval(env, "from tests.bench.survey_results_bench import "  # noqa: S307
                                             "prepare_survey_year; print(repr(prepare_survey_year()))"))
        print("  rebuilding the dashboards' rollup", flush=True)
        dashboards = eval(django_eval(env, "from tests.bench.dashboard_bench import prepare_dashboards; "  # noqa: S307
                                           "print(repr(prepare_dashboards()))"))
        settled = float(django_eval(env, "from tests.bench.floor import settle; print(settle())"))
        print(f"  VACUUM ANALYZE after the bulk writes: {settled:.0f} s", flush=True)

        lists = list_paths(mobiles, names)
        pages = {
            "customer list, filter tier=A": ("/customers/?tier=a", "floor list"),
            BY_DIGITS: (lists[BY_DIGITS], "floor list"),
            BY_NAME: (lists[BY_NAME], "floor list"),
            FIRST_PAGE: (lists[FIRST_PAGE], "floor list"),
            "customer list, deep page (100,000 in)": (f"/customers/?after={deep_cursor}", "floor list"),
            "customer page": ([f"/customers/{pk}/" for pk in customer_ids], "floor detail"),
            "org chart (200 staff)": ("/org/", "floor list"),
        }
        pages.update({name: (path, "floor list") for name, path in report_paths(report).items()})
        pages.update({name: (path, "floor list") for name, path in results_paths(results_data).items()})
        pages.update({name: (path, "floor list") for name, path in dashboard_paths().items()})
        floors = {"floor list": "/floor/customers", "floor detail": [f"/floor/customer/{pk}" for pk in customer_ids]}

        workspace = {}

        def the_workspace(app_port):
            workspace.update(workspace_under_load(app_port, specialists, args.seconds * 2))
            print("  measured the call workspace", flush=True)

        floor_results, results = measure(env, args, cookie, floors, {name: path for name, (path, _f) in pages.items()},
                                         then=the_workspace)
        list_floors[args.customers] = floor_results["floor list"]
        list_by_size[args.customers] = {name: results[name] for name in (FIRST_PAGE, BY_DIGITS, BY_NAME)}
        # each phase's figures as soon as it is measured: a later phase that fails loses only its own
        print()
        print(f"seed_demo --customers {steps}: {seed_seconds:.0f} s "
              f"({args.customers * 1.2 / seed_seconds:,.0f} customers/s over demo and acme)")
        print(f"gunicorn {args.workers} sync workers on {os.cpu_count()} cores; latency: {args.users} users "
              f"waiting 1–3 s, {args.seconds:.0f} s; throughput: {args.clients} clients, no wait, "
              f"{args.saturation_seconds:.0f} s")
        header = (f"{'page':40} {'p50 ms':>7} {'p95 ms':>7} {'n':>5} {'req/s':>7}   {'floor':13} {'p50':>6} "
                  f"{'p95':>6} {'req/s':>7}  {'req/s %':>7}")
        print(header)
        for name, (p50, p95, count, rps) in results.items():
            floor_name = pages[name][1]
            f50, f95, _fn, frps = floor_results[floor_name]
            print(f"{name:40} {p50:7.1f} {p95:7.1f} {count:5d} {rps:7.0f}   {floor_name:13} {f50:6.1f} "
                  f"{f95:6.1f} {frps:7.0f}  {100 * rps / frps:6.0f}%")
        first, deep = results["customer list, first page"][1], results["customer list, deep page (100,000 in)"][1]
        print(f"deep page p95 / first page p95: {deep / first:.2f}")
        print()
        print("\n".join(list_lines(list_by_size, list_floors, args.users)))
        print()
        f50, f95, _fn, _frps = floor_results["floor detail"]
        for name, (p50, p95, count) in workspace.items():
            print(f"{'workspace: ' + name:40} {p50:7.1f} {p95:7.1f} {count:5d} {'':>7}   {'floor detail':13} "
                  f"{f50:6.1f} {f95:6.1f}")
        print(f"  ({len(specialists)} specialists, each: next call (htmx POST answered with the call page) → 1–3 s "
              f"→ record (POST) → 1–3 s)")
        print()
        print("\n".join(generation_lines(generation)))
        print("\n".join(report_lines(report)), flush=True)
        print("  measuring the follow-up report cold", flush=True)
        print("\n".join(eval(django_eval(env, "from tests.bench.report_bench import measure_in_process; "  # noqa: S307
                                             f"print(repr(measure_in_process({report!r}, 20, cold=True)))"))))
        print("\n".join(results_lines(results_data)))
        print("  measuring the survey results cold", flush=True)
        paths = results_paths(results_data)
        print("\n".join(eval(django_eval(env, "from tests.bench.report_bench import measure_in_process; "  # noqa: S307
                                             f"print(repr(measure_in_process({results_data!r}, 20, cold=True, "
                                             f"paths={paths!r})))"))))
        print("\n".join(dashboard_lines(dashboards)))
        print("  measuring the dashboards cold", flush=True)
        print("\n".join(eval(django_eval(env, "from tests.bench.dashboard_bench import "  # noqa: S307
                                             "measure_roles_in_process; print(repr(measure_roles_in_process()))"))))
        print("  measuring the report e-mails", flush=True)
        print("\n".join(eval(django_eval(env, "from tests.bench.dashboard_bench import "  # noqa: S307
                                             "measure_subscriptions; print(repr(measure_subscriptions()))"))))
        print("\n".join(eval(django_eval(env, "from tests.bench.dashboard_bench import "  # noqa: S307
                                             "measure_segment_profiles; print(repr(measure_segment_profiles()))"))))
        from tests.bench.import_bench import run as import_bench

        print(f"  measuring the customer import ({args.import_rows:,} rows)", flush=True)
        print("\n".join(import_bench(env, rows=args.import_rows)))
        print("  measuring survey sending", flush=True)
        surveys = eval(django_eval(env, "from tests.bench.survey_bench import measure_sending; "  # noqa: S307
                                        "print(repr(measure_sending()))"))
        print("\n".join(sending_lines(surveys)))
        print("  the club", flush=True)
        print("\n".join(["", *club_bench.run(env, args, django_eval, Server)]))
    return 0


def bench_env(static_root: str) -> dict:
    return {**os.environ, "DEBUG": "0", "STATIC_ROOT": static_root, "SECURE_SSL_REDIRECT": "0",
            "SECURE_COOKIES": "0", "SECURE_HSTS_SECONDS": "0", "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING",
            "API_RATE": "1000000/min"}  # one credential stands for 50 clients: measured, never refused


def club_only(args) -> int:
    """`--only club`: the demo seeded with --customers (default: --members) customers, then the club benchmark."""
    with tempfile.TemporaryDirectory(prefix="crm-static-") as static_root:
        env = bench_env(static_root)
        print(f"preparing: migrate, collectstatic, seed_demo --customers {args.customers:,}", flush=True)
        manage(env, "migrate", "--no-input", "-v0")
        manage(env, "collectstatic", "--no-input", "-v0")
        started = time.perf_counter()
        manage(env, "seed_demo", "--customers", str(args.customers))
        print(f"seed_demo --customers {args.customers:,}: {time.perf_counter() - started:.0f} s", flush=True)
        print(f"gunicorn {args.workers} sync workers on {os.cpu_count()} cores", flush=True)
        lines = club_bench.run(env, args, django_eval, Server)
    print()
    print("\n".join(lines))
    return 0


def prepare_year_of_work(env, args, *, workspace: bool = False) -> dict:
    """migrate, collectstatic, the demo with --customers customers and BENCH_STAFF staff, its follow-ups generated
    again as `make bench` does (the seed's calls and answers would collide with the year's), the call workspace's
    specialists when `workspace`, a year of follow-up work and of survey responses, the dashboards' rollup, VACUUM
    ANALYZE; each step's figures: {"specialists", "report", "results", "dashboards"}."""
    print(f"preparing: migrate, collectstatic, seed_demo --customers {args.customers:,}, {BENCH_STAFF} staff",
          flush=True)
    manage(env, "migrate", "--no-input", "-v0")
    manage(env, "collectstatic", "--no-input", "-v0")
    started = time.perf_counter()
    manage(env, "seed_demo", "--customers", str(args.customers))
    print(f"seed_demo --customers {args.customers:,}: {time.perf_counter() - started:.0f} s", flush=True)
    django_eval(env, f"from tests.bench.floor import grow_demo; grow_demo({BENCH_STAFF})")
    django_eval(env, "from tests.bench.followup_bench import measure_generation; measure_generation()")
    prepared = {"specialists": eval(django_eval(  # noqa: S307 - our own repr
        env, "from tests.bench.followup_bench import prepare_workspace; print(repr(prepare_workspace()))"))
        if workspace else []}
    prepared["report"] = eval(django_eval(env, "from tests.bench.report_bench import prepare_year; "  # noqa: S307
                                               "print(repr(prepare_year()))"))
    prepared["results"] = eval(django_eval(env, "from tests.bench.survey_results_bench import "  # noqa: S307
                                                "prepare_survey_year; print(repr(prepare_survey_year()))"))
    prepared["dashboards"] = eval(django_eval(env, "from tests.bench.dashboard_bench import "  # noqa: S307
                                                   "prepare_dashboards; print(repr(prepare_dashboards()))"))
    settled = float(django_eval(env, "from tests.bench.floor import settle; print(settle())"))
    print(f"  VACUUM ANALYZE after the bulk writes: {settled:.0f} s", flush=True)
    return prepared


def dashboards_only(args) -> int:
    """`--only dashboards`: the demo with --customers customers, a year of follow-up work and of survey responses,
    the dashboards' rollup rebuilt and refreshed, then the director's dashboards under load next to the floor and
    every role's cold."""
    with tempfile.TemporaryDirectory(prefix="crm-static-") as static_root:
        env = bench_env(static_root)
        prepared = prepare_year_of_work(env, args)
        report, results_data, dashboards = prepared["report"], prepared["results"], prepared["dashboards"]
        cookie = {"sessionid": django_eval(env, "from tests.bench.floor import login_session; "
                                                "print(login_session('demo.director'))")}
        floor_results, results = measure(env, args, cookie, {"floor list": "/floor/customers"}, dashboard_paths())
        f50, f95, _fn, frps = floor_results["floor list"]
        print()
        print("\n".join(report_lines(report)))
        print("\n".join(results_lines(results_data)))
        print("\n".join(dashboard_lines(dashboards)))
        print(f"gunicorn {args.workers} sync workers on {os.cpu_count()} cores; {args.users} users waiting 1–3 s, "
              f"{args.seconds:.0f} s")
        for name, (p50, p95, count, rps) in results.items():
            print(f"{name:40} p50 {p50:6.1f} p95 {p95:6.1f} n {count:5d} {rps:6.0f} req/s   floor list p50 {f50:6.1f} "
                  f"p95 {f95:6.1f} {frps:6.0f} req/s   (target p95 ≤ 100 ms)")
        print("\n".join(eval(django_eval(env, "from tests.bench.dashboard_bench import "  # noqa: S307
                                             "measure_roles_in_process; print(repr(measure_roles_in_process()))"))))
        print("\n".join(eval(django_eval(env, "from tests.bench.dashboard_bench import "  # noqa: S307
                                             "measure_subscriptions; print(repr(measure_subscriptions()))"))))
        print("\n".join(eval(django_eval(env, "from tests.bench.dashboard_bench import "  # noqa: S307
                                             "measure_segment_profiles; print(repr(measure_segment_profiles()))"))))
    return 0


def api_only(args) -> int:
    """`--only api`: the demo with --customers customers, then the REST API's customer list under load next to its
    floor (tests/bench/api_bench.py)."""
    with tempfile.TemporaryDirectory(prefix="crm-static-") as static_root:
        env = bench_env(static_root)
        print(f"preparing: migrate, seed_demo --customers {args.customers:,}", flush=True)
        manage(env, "migrate", "--no-input", "-v0")
        manage(env, "collectstatic", "--no-input", "-v0")
        started = time.perf_counter()
        manage(env, "seed_demo", "--customers", str(args.customers))
        print(f"seed_demo --customers {args.customers:,}: {time.perf_counter() - started:.0f} s", flush=True)
        settled = float(django_eval(env, "from tests.bench.floor import settle; print(settle())"))
        print(f"  VACUUM ANALYZE after the bulk writes: {settled:.0f} s", flush=True)
        prepared = eval(django_eval(env, "from tests.bench.api_bench import prepare_api; "  # noqa: S307
                                         "print(repr(prepare_api()))"))
        auth = {"Authorization": f"Bearer {prepared['token']}"}
        app = Server(env, "crm.settings", args.workers)
        floor = Server(env, "tests.bench.floor_settings", args.workers)
        try:
            floor_figures = (*under_load(floor.port, prepared["floor"], {}, args.users, args.seconds),
                             saturated(floor.port, prepared["floor"], {}, args.clients, args.saturation_seconds))
            api_figures = (*under_load(app.port, prepared["api"], auth, args.users, args.seconds),
                           saturated(app.port, prepared["api"], auth, args.clients, args.saturation_seconds))
            floor.stop()
            print()
            print("\n".join(api_lines(api_figures, floor_figures, args.users)))
            print(f"gunicorn {args.workers} sync workers on {os.cpu_count()} cores; {args.seconds:.0f} s per phase",
                  flush=True)
            # the DMS's bulk upserts through the same server, next to the web import of the same rows
            upserts = django_eval(env, "from tests.bench.upsert_bench import bench_upserts; "
                                       f"print(repr(bench_upserts({args.upsert_rows}, {app.port})))")
        finally:
            app.stop()
            floor.stop()
        local = {**env, "OUTBOUND_ALLOWED_NETWORKS": "127.0.0.1/32"}  # the receiver of the benchmark
        print("\n".join(eval(django_eval(local, (  # noqa: S307
            "from accounts.models import Tenant; from tests.bench.webhook_bench import measure_webhook_delivery, "
            "measure_post_floor, webhook_lines; floor = measure_post_floor(); "
            "print(repr(webhook_lines(measure_webhook_delivery(Tenant.objects.get(slug='demo')), floor)))")))))
        print("\n".join(eval(upserts)))  # noqa: S307
    return 0


def pooler_only(args) -> int:
    """`--only pooler`: the demo with --customers customers; the customer list and page (and the floor) served
    through PgBouncer in transaction mode (crm/devstack.py starts it: POOLED_DATABASE_URL) and directly, then as
    crm_app under row-level security; last, single customer deletes at that size."""
    pooled_url = os.environ.get("POOLED_DATABASE_URL")
    if not pooled_url:
        print("--only pooler needs POOLED_DATABASE_URL (make bench starts a PgBouncer unless DATABASE_URL is set)")
        return 1
    with tempfile.TemporaryDirectory(prefix="crm-static-") as static_root:
        env = bench_env(static_root)
        print(f"preparing: migrate, seed_demo --customers {args.customers:,}, {BENCH_STAFF} staff", flush=True)
        manage(env, "migrate", "--no-input", "-v0")
        manage(env, "collectstatic", "--no-input", "-v0")
        manage(env, "seed_demo", "--customers", str(args.customers))
        django_eval(env, f"from tests.bench.floor import grow_demo; grow_demo({BENCH_STAFF})")
        customer_ids, mobiles, names, _deep = eval(django_eval(  # noqa: S307 - our own repr
            env, "from tests.bench.floor import samples; print(samples())"))
        cookie = {"sessionid": django_eval(env, "from tests.bench.floor import login_session; "
                                                "print(login_session('demo.director'))")}
        settled = float(django_eval(env, "from tests.bench.floor import settle; print(settle())"))
        print(f"  VACUUM ANALYZE after the bulk writes: {settled:.0f} s", flush=True)
        lists = list_paths(mobiles, names)
        pages = {name: lists[name] for name in (FIRST_PAGE, BY_DIGITS, BY_NAME)}
        pages["customer page"] = [f"/customers/{pk}/" for pk in customer_ids]
        # the floor detail page again, making as many statements as the customer page: each is a round trip
        # through the pooler, so this says what the hop costs a page of that many queries
        page = f"/customers/{customer_ids[0]}/"
        queries = int(django_eval(env, "from tests.bench.floor import page_queries; "
                                       f"print(page_queries({page!r}, {cookie['sessionid']!r}))"))
        floors = {"floor list": "/floor/customers", "floor detail": [f"/floor/customer/{pk}" for pk in customer_ids],
                  f"floor detail, {queries} queries": [f"/floor/customer/{pk}/queries/{queries}"
                                                      for pk in customer_ids]}
        pooled_env = {**env, "DATABASE_URL": pooled_url, "DB_POOLED": "1"}
        direct = measure(env, args, cookie, floors, pages)
        pooled = measure(pooled_env, args, cookie, floors, pages)
        again = measure(env, args, cookie, floors, pages)  # the run-to-run noise of the direct figures
        print()
        print("\n".join(pooler_lines(direct, pooled, args.users, again)), flush=True)
        # as compose runs it: through PgBouncer as crm_app, bound by the row-level-security policies (DB_RLS=1);
        # the floor is not measured again (bare Django without the tenant setting would see no rows)
        app_role_create(env)
        rls_env = {**pooled_env, "DB_RLS": "1", "DATABASE_URL": app_role_url(pooled_url)}
        bound = measure(rls_env, args, cookie, {}, pages)
        print()
        print("\n".join(rls_lines(pooled, bound, args.users)))
        print(f"gunicorn {args.workers} sync workers on {os.cpu_count()} cores; {args.seconds:.0f} s per phase",
              flush=True)
        # the demo is at its full size here: what deleting one customer costs at it (the keys' indexes)
        print("  measuring single customer deletes", flush=True)
        print("\n".join(delete_lines(eval(django_eval(env, "from tests.bench.keys_bench import "  # noqa: S307
                                                           "measure_deletes; print(repr(measure_deletes()))")))))
    return 0


def keys_only(args) -> int:
    """`--only keys`: the demo with --customers customers; follow-up generation and the customer import (--import-rows)
    with the keys between tenant-owned tables as before the composite keys, with both, and with the twins alone
    (tests/bench/keys_bench.py), switched by DDL in the same database; then single customer deletes as migrated,
    next to a floor. The database is left as migrated."""
    from tests.bench.import_bench import run as import_bench
    from tests.bench.keys_bench import import_figures

    def shape(name: str) -> None:
        print("  " + django_eval(env, f"from tests.bench.keys_bench import schema_as; print(schema_as({name!r}))"),
              flush=True)

    with tempfile.TemporaryDirectory(prefix="crm-static-") as static_root:
        env = bench_env(static_root)
        print(f"preparing: migrate, seed_demo --customers {args.customers:,}", flush=True)
        manage(env, "migrate", "--no-input", "-v0")
        started = time.perf_counter()
        manage(env, "seed_demo", "--customers", str(args.customers))
        print(f"seed_demo --customers {args.customers:,}: {time.perf_counter() - started:.0f} s", flush=True)
        generation, imports = {}, []
        try:
            for name in ("before", "both", "twins"):  # generation empties the follow-ups first: the same work each time
                shape(name)
                settled = float(django_eval(env, "from tests.bench.floor import settle; print(settle())"))
                print(f"  measuring follow-up generation (VACUUM ANALYZE: {settled:.0f} s)", flush=True)
                generation[name] = eval(django_eval(env, "from tests.bench.followup_bench import "  # noqa: S307
                                                         "measure_generation; print(repr(measure_generation()))"))
            for name in ("before", "both", "twins", "before"):  # each import adds --import-rows customers
                shape(name)
                print(f"  measuring the customer import ({args.import_rows:,} rows)", flush=True)
                imports.append((name, *import_figures(import_bench(env, rows=args.import_rows))))
        finally:
            shape("twins")  # as the migrations built it
        print("  measuring single customer deletes", flush=True)
        deletes = eval(django_eval(env, "from tests.bench.keys_bench import measure_deletes; "  # noqa: S307
                                        "print(repr(measure_deletes()))"))
    print()
    print("\n".join(keys_lines(generation, imports)))
    print("\n".join(delete_lines(deletes)))
    print(f"{os.cpu_count()} cores; --customers {args.customers:,}, --import-rows {args.import_rows:,}", flush=True)
    return 0


def replica_only(args) -> int:
    """`--only replica`: the demo with --customers customers, the call workspace's specialists, a year of follow-up
    work and of survey responses, the dashboards' rollup; then a hot standby of the cluster, and the reports and
    dashboards read from it while the primary takes the call workspace, next to the same pages served from the
    primary (tests/bench/replica_bench.py)."""
    from tests.bench import replica_bench
    from tests.bench.dashboard_bench import dashboard_lines

    with tempfile.TemporaryDirectory(prefix="crm-static-") as static_root, \
            tempfile.TemporaryDirectory(prefix="crm-standby-") as standby_root:
        env = bench_env(static_root)
        prepared = prepare_year_of_work(env, args, workspace=True)
        specialists, report, results_data = prepared["specialists"], prepared["report"], prepared["results"]
        dashboards = prepared["dashboards"]
        customer_ids, _mobiles, _names, _deep = eval(django_eval(  # noqa: S307 - our own repr
            env, "from tests.bench.floor import samples; print(samples())"))
        cookie = {"sessionid": django_eval(env, "from tests.bench.floor import login_session; "
                                                "print(login_session('demo.director'))")}
        pages = {**report_paths(report), **results_paths(results_data), **dashboard_paths()}
        floors = {"floor list": "/floor/customers", "floor detail": [f"/floor/customer/{pk}" for pk in customer_ids]}

        primary_url = env["DATABASE_URL"]
        print("  starting a hot standby (pg_basebackup)", flush=True)
        size = int(replica_bench._one(primary_url, "SELECT sum(pg_database_size(datname)) FROM pg_database"))
        started = time.perf_counter()
        standby, replica_url = replica_bench.standby_of(primary_url, Path(standby_root))
        try:
            standby_info = {"bytes": size, "backup_seconds": time.perf_counter() - started,
                            "catch_up_seconds": replica_bench.wait_for_replay(primary_url, replica_url)}
            environments = {"floor": (env, "tests.bench.floor_settings"),
                            "replica": ({**env, "DATABASE_REPLICA_URL": replica_url}, "crm.settings"),
                            "primary": (env, "crm.settings")}

            def serve(kind):
                return replica_bench.gunicorn(Server, *environments[kind], args.workers)

            result = replica_bench.run(
                primary_url=primary_url, replica_url=replica_url, serve=serve, pages=pages, floors=floors,
                cookie=cookie, sessions=specialists, users=args.users, clients=args.clients, seconds=args.seconds,
                saturation_seconds=args.saturation_seconds, workspace_seconds=args.seconds * 2)
        finally:
            standby.stop()
    print()
    print("\n".join(report_lines(report)))
    print("\n".join(results_lines(results_data)))
    print("\n".join(dashboard_lines(dashboards)))
    print(f"gunicorn {args.workers} sync workers for the pages and {args.workers} more for the workspace (another web "
          f"node) on {os.cpu_count()} cores, the standby on the same machine; "
          f"{args.seconds:.0f} s under load and {args.saturation_seconds:.0f} s at saturation per page and phase; "
          f"{len(specialists)} specialists in the workspace")
    print("\n".join(replica_bench.replica_lines(result, users=args.users, clients=args.clients,
                                                standby=standby_info)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
