"""Customer import benchmark: a realistic CSV (Chinese names, valid mobiles and VINs with vehicles, as another
CRM would export it) imported by the import service, next to its real floor measured in the same run: a COPY
through crm.bulk of the same rows (customers, vehicles, tag links) into the same tables, with their indexes,
constraints and foreign keys (floor_copy).

    python -m tests.bench.import_bench --rows 100000            # DATABASE_URL, REDIS_URL, SECRET_KEY set
    python -m tests.bench.import_bench --rows 100000 --worker   # once more through a Celery worker

It migrates and seeds the demo tenants when they are missing (`--seed N` customers; an existing demo is
used as it is), imports into `demo` as demo.director (mobile as the duplicate key), then imports the same
file again with "update on a match" (every row matches), and prints rows/s with the floor and the ratio.
Imported customers stay (each run numbers its rows past the tenant's current customers, so runs never
collide). `run(env)` does the same in a subprocess and returns the printed lines, for tests/bench/__main__.py.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HEADERS = ["客户姓名", "性别", "手机号码", "出生日期", "身份证号", "联系地址", "客户等级", "客户来源", "标签",
           "同意营销", "同意方式", "负责人", "车架号", "车牌号", "车型", "购车日期"]
TIERS = ["A级"] * 15 + ["B级"] * 40 + ["C级"] * 43 + ["VIP"] * 2
SOURCES = ["自然到店"] * 35 + ["来电"] * 15 + ["汽车之家"] * 10 + ["懂车帝"] * 10 + ["转介绍"] * 15 + ["车展"] * 10 + \
    ["其他"] * 5
TAGS = ["老客户", "车主俱乐部", "团购", "潜在换购", "家用", "网约车"]
CHANNELS = ["纸质", "电话录音", "线上", "微信"]


def run(env: dict | None = None, rows: int = 100_000, *, worker: bool = False, seed: int = 2000) -> list[str]:
    """Run the benchmark in a subprocess with `env` (DATABASE_URL, REDIS_URL, SECRET_KEY); its result lines."""
    args = [sys.executable, "-m", "tests.bench.import_bench", "--rows", str(rows), "--seed", str(seed)]
    if worker:
        args.append("--worker")
    environment = {**os.environ, **(env or {})}
    environment.setdefault("DEBUG", "0")
    done = subprocess.run(args, cwd=ROOT, env=environment, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"import benchmark failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-4000:]}")
    lines = done.stdout.splitlines()
    return lines[lines.index("RESULTS") + 1:] if "RESULTS" in lines else lines


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    os.environ.setdefault("DEBUG", "0")
    import django

    django.setup()


def generate(path: Path, tenant, rows: int, first_number: int, variant: int = 0) -> None:
    """`rows` customers with one vehicle each (one in ten with a second row: another vehicle, same mobile),
    numbered from `first_number` so that mobiles and VINs are new to the tenant. Another `variant` of the
    same numbers: the same people and vehicles with another address, tier, source, tags and
    consent, as a later export of the same CRM would have them."""
    from accounts.models import Staff
    from crm.demo import customers as demo

    plan = demo._Plan(tenant)
    rng = random.Random(f"import-bench:{first_number}")
    changing = random.Random(f"import-bench:{first_number}:{variant}")
    owners = list(Staff.objects.filter(is_active=True).values_list("employee_no", flat=True))
    surnames = plan.surnames
    today = date_today()
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        written = 0
        number = first_number
        while written < rows:
            male = rng.random() < 0.6
            chars = demo.MALE_CHARS if male else demo.FEMALE_CHARS
            name = rng.choice(surnames) + "".join(rng.choice(chars) for _ in range(rng.choice((1, 2, 2))))
            mobile = plan.mobile(number)[3:]
            mobile = rng.choice((mobile, f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}", f"+86{mobile}"))
            city_name, province, letters, _area, regions, districts = rng.choice(demo.CITIES)
            born = today.toordinal() - 22 * 365 - rng.randrange(45 * 365)
            birthday = date_fromordinal(born)
            birthday_text = rng.choice((birthday.isoformat(), f"{birthday.year}/{birthday.month}/{birthday.day}",
                                        birthday.strftime("%Y%m%d")))
            address = (f"{city_name}市{changing.choice(districts)}{changing.choice(demo.ROADS)}"
                       f"{changing.randrange(1, 300)}号")
            consent = changing.random() < 0.6
            tags = "、".join(changing.sample(TAGS, changing.choice((0, 0, 1, 2))))
            tier, source = changing.choice(TIERS), changing.choice(SOURCES)
            channel = changing.choice(CHANNELS) if consent else ""
            for slot in range(2 if rng.random() < 0.1 else 1):
                if written >= rows:
                    break
                model, variants, _low, _high, ev = rng.choice(plan.models)
                head, head_sum = rng.choice(variants)
                bought = date_fromordinal(today.toordinal() - rng.randrange(5 * 365))
                year_code = demo.VIN_YEARS[(bought.year - 2010) % 30]
                tail, tail_sum = plan.vin_tail(number * 2 + slot)
                check = (head_sum + demo.VIN_VALUES[year_code] * 9 + tail_sum) % 11
                vin = f"{head}{'X' if check == 10 else check}{year_code}{tail}"
                plate = province + rng.choice(letters) + plan.plate_body(number * 2 + slot, ev)
                writer.writerow([
                    name, "男" if male else "女", mobile, birthday_text, "", address, tier, source, tags,
                    "是" if consent else "否", channel,
                    rng.choice(owners) if owners and rng.random() < 0.8 else "", vin, plate, model,
                    bought.isoformat() if rng.random() < 0.7 else bought.strftime("%Y/%m/%d"),
                ])
                written += 1
            number += 1


def _free_numbers(tenant, rows: int) -> int:
    """The first of `rows` customer numbers whose demo mobiles the tenant does not have yet (earlier runs
    took theirs): the file's customers are all new."""
    from crm.demo import customers as demo
    from customers.models import Customer

    plan = demo._Plan(tenant)
    first = 5_000_000 + Customer.objects.count()
    while first + rows < 16_000_000:  # VIN serials stay unique below 16.5 million customer numbers
        mobiles = [plan.mobile(n) for n in range(first, first + rows, 97)]
        if not Customer.objects.filter(mobile__in=mobiles).exists():
            return first
        first += rows
    raise SystemExit("no free customer numbers left for the benchmark: use a fresh database")


def date_today():
    from django.utils import timezone

    return timezone.localdate()


def date_fromordinal(ordinal: int):
    from datetime import date

    return date.fromordinal(ordinal)


GENDERS = {"男": "male", "女": "female"}
TIER_VALUES = {"A级": "a", "B级": "b", "C级": "c", "VIP": "vip"}
SOURCE_VALUES = {"自然到店": "walk_in", "来电": "phone", "汽车之家": "online", "懂车帝": "online", "转介绍": "referral",
                 "车展": "event", "其他": "other"}
CHANNEL_VALUES = {"纸质": "paper", "电话录音": "phone", "线上": "online", "微信": "wechat"}


def floor_copy(path: Path, tenant) -> tuple[float, int]:
    """The floor of the import: seconds for a COPY (crm.bulk.copy_rows) of the same rows — the file's customers
    (one per mobile), their vehicles and their tag links — into the same tables with their indexes, unique and
    check constraints and foreign keys (checked per statement, not put off to a commit), with ids taken from
    the sequence as the import takes them; pghistory's triggers stand aside as they do for the import (which
    writes the event rows itself; the floor writes none). The file is read and the COPY text built before the
    clock starts, and the transaction is rolled back afterwards. Returns the seconds and the rows written."""
    from django.db import connection, transaction

    from accounts.models import Staff
    from crm.bulk import NULL, bulk_history, copy_rows, copy_text, take_ids
    from crm.parsing import parse_date, parse_mobile
    from customers.models import Customer
    from customers.services.import_writes import Importer

    people: dict[str, tuple[dict, list[dict]]] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            people.setdefault(parse_mobile(row["手机号码"]), (row, []))[1].append(row)
    owners = dict(Staff.objects.values_list("employee_no", "pk"))
    tags = {name for row, _cars in people.values() for name in row["标签"].split("、") if name}
    now = date_now()
    stamp, tenant_id = now.isoformat(), str(tenant.pk)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        bulk_history(cursor)
        cursor.execute("INSERT INTO customers_tag (tenant_id, created_at, updated_at, name) "
                       "SELECT %s, %s, %s, unnest(%s::text[]) ON CONFLICT DO NOTHING",
                       [tenant.pk, now, now, sorted(tags)])
        cursor.execute("SELECT name, id FROM customers_tag WHERE tenant_id = %s AND name = ANY(%s)",
                       [tenant.pk, sorted(tags)])
        tag_ids = {name: str(pk) for name, pk in cursor.fetchall()}
        customers, vehicles, links = [], [], []
        for pk, (mobile, (row, cars)) in zip(take_ids(cursor, Customer, len(people)), people.items(), strict=True):
            consent = row["同意营销"] == "是"
            owner = owners.get(row["负责人"])
            customers.append("\t".join((
                str(pk), tenant_id, stamp, stamp, "person", copy_text(row["客户姓名"]), mobile, "", "", "",
                GENDERS[row["性别"]], parse_date(row["出生日期"]).isoformat(), copy_text(row["联系地址"]), "",
                SOURCE_VALUES[row["客户来源"]], TIER_VALUES[row["客户等级"]], "customer",
                str(owner) if owner else NULL, NULL, "", "t" if consent else "f", stamp if consent else NULL,
                CHANNEL_VALUES.get(row["同意方式"], ""), "t", "0")) + "\n")
            for car in cars:
                vehicles.append("\t".join((tenant_id, stamp, stamp, str(pk), car["车架号"], copy_text(car["车牌号"]),
                                           copy_text(car["车型"]), parse_date(car["购车日期"]).isoformat())) + "\n")
            links.extend(f"{tenant_id}\t{stamp}\t{stamp}\t{pk}\t{tag_ids[name]}\n"
                         for name in row["标签"].split("、") if name)
        started = time.perf_counter()
        copy_rows(cursor, "customers_customer", [*Importer.CUSTOMER_COLUMNS, "completeness"], customers)
        copy_rows(cursor, "customers_vehicle", Importer.VEHICLE_COLUMNS, vehicles)
        copy_rows(cursor, "customers_customertag", Importer.TAG_COLUMNS, links)
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds, len(customers) + len(vehicles) + len(links)


def date_now():
    from django.utils import timezone

    return timezone.now()


def _job(tenant, director, path: Path, *, on_match: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from customers.services import imports

    upload = SimpleUploadedFile("crm-export.csv", path.read_bytes(), content_type="text/csv")
    job = imports.import_upload(tenant=tenant, staff=director, upload=upload)
    return imports.import_configure(job=job, columns=job.columns, match_key="mobile", on_match=on_match,
                                    all_or_nothing=False, department=None)


def _count(model) -> int:
    return model.objects.count()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2000, help="customers to seed_demo when demo is missing")
    parser.add_argument("--worker", action="store_true", help="also run one import through a Celery worker")
    args = parser.parse_args()

    media = tempfile.mkdtemp(prefix="crm-import-bench-")
    os.environ["MEDIA_ROOT"] = media
    _setup()
    from django.core.management import call_command
    from django.db import connection
    from django_scopes import scope

    from accounts.models import Staff, Tenant
    from customers.models import Customer, ImportJob, JobStatus, Vehicle
    from customers.services import imports

    call_command("migrate", "--no-input", verbosity=0)
    if not Tenant.objects.filter(slug="demo").exists():
        call_command("seed_demo", customers=args.seed, verbosity=0)
    tenant = Tenant.objects.get(slug="demo")
    lines = []
    with scope(tenant=tenant), tempfile.TemporaryDirectory(prefix="crm-import-bench-") as tmp:
        director = Staff.objects.select_related("user").get(user__username="demo.director")
        path = Path(tmp) / "export.csv"
        existing = _count(Customer)
        first = _free_numbers(tenant, args.rows)
        started = time.perf_counter()
        generate(path, tenant, args.rows, first)
        generated = time.perf_counter() - started
        size = path.stat().st_size
        print(f"generated {args.rows:,} rows ({size / 1e6:.1f} MB) in {generated:.1f} s; the tenant has "
              f"{existing:,} customers", flush=True)

        floor, floor_rows = floor_copy(path, tenant)
        floor_rate = args.rows / floor

        changed = Path(tmp) / "export-later.csv"
        generate(changed, tenant, args.rows, first, variant=1)
        runs = []
        for label, on_match, source in (
            ("new customers with vehicles", "skip", path),
            ("a later export of them, update on match", "update", changed),
            ("the same file again, update on match", "update", changed),
        ):
            job = _job(tenant, director, source, on_match=on_match)
            ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED)
            connection.close()  # a fresh connection, as a worker has
            started = time.perf_counter()
            job = imports.import_run(job_id=job.pk)
            seconds = time.perf_counter() - started
            assert job.status == JobStatus.DONE, (job.status, job.error)
            runs.append((label, seconds, job))
            print(f"  {label}: {seconds:.1f} s", flush=True)

        if args.worker:
            runs.append(_through_worker(tenant, director, path))

        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE customers_customer, customers_vehicle, customers_customerevent, "
                           "customers_vehicleevent, customers_customertag")
        lines.append(f"customer import, {args.rows:,}-row CSV with vehicles, into a tenant of {existing:,} customers "
                     f"(now {_count(Customer):,}, {_count(Vehicle):,} vehicles)")
        lines.append(f"{'run':44} {'seconds':>8} {'rows/s':>8} {'created':>8} {'updated':>8} {'skipped':>8} "
                     f"{'rejected':>8}  {'floor rows/s':>12} {'ratio':>6}")
        for label, seconds, job in runs:
            rate = args.rows / seconds
            lines.append(f"{label:44} {seconds:8.2f} {rate:8,.0f} {job.created_count:8,} {job.updated_count:8,} "
                         f"{job.skipped_count:8,} {job.rejected_count:8,}  {floor_rate:12,.0f} "
                         f"{100 * rate / floor_rate:5.0f}%")
        lines.append(f"floor: COPY through crm.bulk of the same rows ({floor_rows:,} customers, vehicles and tag "
                     f"links) into the same tables with their indexes, constraints and foreign keys, rolled back: "
                     f"{floor:.2f} s, {floor_rate:,.0f} file rows/s; target ≥ 20,000 rows/s")
    print("RESULTS")
    for line in lines:
        print(line)
    return 0


def _through_worker(tenant, director, path):
    """Start a Celery worker (solo pool), queue an import through the view's service, wait for it."""
    from django.db import transaction

    from customers.models import ImportJob, JobStatus
    from customers.services import imports

    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "crm", "worker", "--pool", "solo",
                               "--loglevel", "WARNING", "--without-heartbeat", "--without-gossip",
                               "--without-mingle", "-n", f"import-bench-{os.getpid()}@%h"],
                              cwd=ROOT, env={**os.environ}, stdout=subprocess.DEVNULL)
    try:
        time.sleep(3)  # the worker connects to the broker
        started = time.perf_counter()
        with transaction.atomic():  # the checks of the upload are queued with the start: they find it started
            job = _job(tenant, director, path, on_match="skip")
            imports.import_start(job=job, staff=director)
        while True:
            job.refresh_from_db()
            if job.status in (JobStatus.DONE, JobStatus.FAILED):
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        assert job.status == JobStatus.DONE, job.error
        print(f"  through a worker: {seconds:.1f} s", flush=True)
        return "same file through a Celery worker (skip)", seconds, ImportJob.objects.get(pk=job.pk)
    finally:
        worker.terminate()
        worker.wait(30)


if __name__ == "__main__":
    sys.exit(main())
