"""Bulk upsert benchmark: the dealer management system's customers (one vehicle each) posted to
/api/v1/customers/bulk-upsert/ in 1,000-row requests through the whole API stack (the Django test client: the
credential's authentication, throttling, the idempotency key, the services), next to the web import of the same
number of customers with vehicles (tests/bench/import_bench.py) measured the same way; the target is at least half
the import's rows/s. Then the same rows again (every row `unchanged`).

    python -m tests.bench.upsert_bench --rows 10000     # DATABASE_URL, REDIS_URL, SECRET_KEY set

`measure_bulk_upsert(tenant, rows)` and `measure_web_import(tenant, rows)` return {"rows", "seconds", "rows_per_s"}
for tests/bench/__main__.py (and tests/api/test_upsert_bench.py, in miniature). Each run numbers its customers past
the tenant's current ones, so runs never collide."""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

VIN_YEARS = "ABCDEFGHJK"


def _setup() -> None:
    from tests.bench.import_bench import _setup as setup

    setup()


def _vin(n: int) -> str:
    from customers.validators import vin_check_digit

    body = f"LSGBE5E30{VIN_YEARS[n // 10_000_000 % 10]}{n % 10_000_000:07d}"  # 17: the 9th is the check digit
    return body[:8] + vin_check_digit(body) + body[9:]


def _first_free(tenant) -> int:
    """A customer number whose DMS numbers, mobiles and VINs the tenant has none of yet."""
    from customers.models import Customer

    first = 1_000_000 + Customer.objects.count()
    while Customer.objects.filter(dms_number=f"BENCH{first}").exists():
        first += 1_000_000
    return first


def generate_rows(tenant, rows: int, first: int) -> list[dict]:
    """`rows` DMS customers with a vehicle each, numbered from `first`, held by the tenant's first team; their mobiles
    start with 197, which the demo's customers (crm.demo.customers.MOBILE_PREFIXES) and the import's never do."""
    from accounts.models import Department

    team = Department.objects.order_by("pk").values_list("pk", flat=True).first()
    return [{"dms_number": f"BENCH{n}", "name": f"基准客户{n}", "mobile": f"197{n % 100_000_000:08d}",
             "department": team, "tier": "b", "source": "import", "address": f"北京市朝阳区{n % 999 + 1}号",
             "vehicles": [{"vin": _vin(n), "model_name": "大众朗逸", "plate": f"京Q{n % 100_000:05d}",
                           "purchased_on": "2025-06-01"}]}
            for n in range(first, first + rows)]


def _client(tenant):
    from django.conf import settings
    from django.test import Client

    token = _token(tenant)
    hosts = [h for h in settings.ALLOWED_HOSTS if h and h != "*" and not h.startswith(".")]
    return Client(headers={"Authorization": f"Bearer {token}"}, HTTP_HOST=hosts[0] if hosts else "testserver",
                  secure=True)


def _post_all(client, rows: list[dict], batch: int) -> dict:
    counts: dict[str, int] = {}
    for start in range(0, len(rows), batch):
        response = client.post("/api/v1/customers/bulk-upsert/", {"rows": rows[start:start + batch]},
                               content_type="application/json", headers={"Idempotency-Key": uuid.uuid4().hex})
        if response.status_code != 200:
            raise RuntimeError(f"bulk upsert answered {response.status_code}: {response.content[:2000]!r}")
        for result in response.json()["results"]:
            counts[result["result"]] = counts.get(result["result"], 0) + 1
            if result["result"] == "error":
                raise RuntimeError(f"a benchmark row was refused: {result['errors']}")
    return counts


def _token(tenant) -> str:
    from api.models import ApiCredential
    from api.scopes import WRITE, every
    from api.services.credentials import api_credential_create

    return api_credential_create(credential=ApiCredential(tenant=tenant, name=f"bench {uuid.uuid4().hex[:8]}",
                                                          read_only=False, scopes=every(WRITE)))


def _post_http(port: int, token: str, rows: list[dict], batch: int, clients: int) -> dict:
    """POST the rows in `batch`-row requests to the server on 127.0.0.1:`port` (gunicorn), `clients` requests at a
    time over kept-alive connections, as a DMS would send them; the results counted."""
    import http.client
    import json
    import threading

    counts: dict[str, int] = {}
    lock = threading.Lock()
    batches = [rows[start:start + batch] for start in range(0, len(rows), batch)]
    failures = []

    def client(mine: list[list[dict]]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        try:
            for part in mine:
                conn.request("POST", "/api/v1/customers/bulk-upsert/", body=json.dumps({"rows": part}).encode(),
                             headers={"Authorization": f"Bearer {token}", "Host": "127.0.0.1",
                                      "Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex})
                response = conn.getresponse()
                body = response.read()
                if response.status != 200:
                    failures.append(f"bulk upsert answered {response.status}: {body[:2000]!r}")
                    return
                with lock:
                    for result in json.loads(body)["results"]:
                        counts[result["result"]] = counts.get(result["result"], 0) + 1
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(batches[i::clients],)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures or counts.get("error"):
        raise RuntimeError(failures[0] if failures else f"benchmark rows were refused: {counts}")
    return counts


def measure_bulk_upsert_http(tenant, rows: int, port: int, *, clients: int = 1, batch: int = 1000,
                             again: bool = False) -> dict:
    """As measure_bulk_upsert, through the HTTP server on `port` with `clients` requests at a time."""
    from django_scopes import scope

    with scope(tenant=tenant):
        first = _first_free(tenant)
        data = generate_rows(tenant, rows, first)
        warm_up = generate_rows(tenant, 16, first + rows)
        token = _token(tenant)
    # not timed: each gunicorn worker's first requests load its code and caches (as under_load's first requests)
    _post_http(port, token, warm_up, 1, 8)
    started = time.perf_counter()
    results = _post_http(port, token, data, batch, clients)
    seconds = time.perf_counter() - started
    figures = {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds, "results": results,
               "clients": clients}
    if again:
        started = time.perf_counter()
        figures["again_results"] = _post_http(port, token, data, batch, clients)
        figures["again_seconds"] = time.perf_counter() - started
        figures["again_rows_per_s"] = rows / figures["again_seconds"]
    return figures


def measure_bulk_upsert(tenant, rows: int, batch: int = 1000, *, again: bool = False) -> dict:
    """Post `rows` new DMS customers (a vehicle each) in `batch`-row requests; {"rows", "seconds", "rows_per_s",
    "results"} (and with again=True the same rows once more: "again_seconds", "again_rows_per_s")."""
    from django_scopes import scope

    with scope(tenant=tenant):
        data = generate_rows(tenant, rows, _first_free(tenant))
        client = _client(tenant)
    started = time.perf_counter()
    results = _post_all(client, data, batch)
    seconds = time.perf_counter() - started
    figures = {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds, "results": results}
    if again:
        started = time.perf_counter()
        figures["again_results"] = _post_all(client, data, batch)
        figures["again_seconds"] = time.perf_counter() - started
        figures["again_rows_per_s"] = rows / figures["again_seconds"]
    return figures


def measure_insert_floor(tenant, rows: int, batch: int = 1000) -> dict:
    """The floor of the same run: the same customers and vehicles (numbered past the others) written by bare Django,
    bulk_create of each 1,000 customers and their vehicles in one transaction over one connection, into the same
    tables with their indexes, constraints and history triggers — no HTTP, no checks, no matching, no scores. Their
    mobiles start with 196, which no other customer's does."""
    from datetime import date

    from django.db import transaction
    from django_scopes import scope

    from accounts.models import Department
    from customers.models import Customer, Vehicle

    with scope(tenant=tenant):
        first = _first_free(tenant)
        team = Department.objects.order_by("pk").first()
        started = time.perf_counter()
        for start in range(first, first + rows, batch):
            numbers = range(start, min(start + batch, first + rows))
            with transaction.atomic():
                customers = Customer.objects.bulk_create([
                    Customer(tenant=tenant, dms_number=f"BENCH{n}", name=f"基准客户{n}",
                             mobile=f"+86196{n % 100_000_000:08d}", department=team, tier="b", source="import",
                             address=f"北京市朝阳区{n % 999 + 1}号")
                    for n in numbers])
                Vehicle.objects.bulk_create([
                    Vehicle(tenant=tenant, customer=customer, vin=_vin(n), model_name="大众朗逸",
                            plate=f"京Q{n % 100_000:05d}", purchased_on=date(2025, 6, 1))
                    for n, customer in zip(numbers, customers, strict=True)])
        seconds = time.perf_counter() - started
    return {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds}


def measure_web_import(tenant, rows: int) -> dict:
    """The web import (customers.services.imports, as tests/bench/import_bench.py runs it) of `rows` new customers
    with vehicles from a generated CSV, as demo.director; {"rows", "seconds", "rows_per_s"}."""
    from django_scopes import scope

    from accounts.models import Staff
    from customers.models import ImportJob, JobStatus
    from customers.services import imports
    from tests.bench import import_bench

    with scope(tenant=tenant), tempfile.TemporaryDirectory(prefix="crm-upsert-bench-") as tmp:
        director = Staff.objects.filter(is_active=True, user__username__endswith=".director").first()
        path = Path(tmp) / "export.csv"
        import_bench.generate(path, tenant, rows, import_bench._free_numbers(tenant, rows))
        job = import_bench._job(tenant, director, path, on_match="skip")
        ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED)
        started = time.perf_counter()
        job = imports.import_run(job_id=job.pk)
        seconds = time.perf_counter() - started
        if job.status != JobStatus.DONE:
            raise RuntimeError(f"the import ended {job.status}: {job.error}")
    return {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds}


def upsert_lines(upserts: list[dict], web: dict, floor: dict | None = None) -> list[str]:
    lines = [f"{'web import, new customers with a vehicle each (3 writers)':62} {web['seconds']:8.2f} s "
             f"{web['rows_per_s']:8,.0f} rows/s"]
    if floor:
        lines.append(f"{'floor: bare bulk_create of the same rows, 1,000 a transaction':62} {floor['seconds']:8.2f} s "
                     f"{floor['rows_per_s']:8,.0f} rows/s")
    for upsert in upserts:
        share = 100 * upsert["rows_per_s"] / web["rows_per_s"]
        how = f"{upsert['clients']} request{'s' if upsert['clients'] > 1 else ''} at a time" \
            if "clients" in upsert else "in-process"
        of_floor = f", {100 * upsert['rows_per_s'] / floor['rows_per_s']:.0f}% of the floor" if floor else ""
        lines.append(f"{'API bulk upsert, 1,000-row requests, ' + how:62} {upsert['seconds']:8.2f} s "
                     f"{upsert['rows_per_s']:8,.0f} rows/s  {share:5.1f}% of the import (target ≥ 50%){of_floor}")
        if "again_seconds" in upsert:
            lines.append(f"{'  the same rows again (all unchanged)':62} {upsert['again_seconds']:8.2f} s "
                         f"{upsert['again_rows_per_s']:8,.0f} rows/s")
    return lines


def bench_upserts(rows: int, port: int | None = None) -> list[str]:
    """`make bench --only api`: the upsert through the server on `port` (gunicorn: one request at a time, then
    two), or in-process without one, next to the web import of the same run, on the seeded demo."""
    import os

    from accounts.models import Tenant

    os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="crm-upsert-bench-"))
    tenant = Tenant.objects.get(slug="demo")
    if port is None:
        upserts = [measure_bulk_upsert(tenant, rows, again=True)]
    else:
        upserts = [measure_bulk_upsert_http(tenant, rows, port, clients=clients, again=clients == 1)
                   for clients in (1, 2)]
    return upsert_lines(upserts, measure_web_import(tenant, rows), measure_insert_floor(tenant, rows))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2000, help="customers to seed_demo when demo is missing")
    args = parser.parse_args()
    _setup()
    import os

    os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="crm-upsert-bench-"))
    from django.core.management import call_command

    from accounts.models import Tenant

    call_command("migrate", "--no-input", verbosity=0)
    if not Tenant.objects.filter(slug="demo").exists():
        call_command("seed_demo", customers=args.seed, verbosity=0)
    print("\n".join(bench_upserts(args.rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
