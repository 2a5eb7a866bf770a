"""Follow-up benchmarks, called by `make bench` (tests/bench/__main__.py):

- generation: the demo tenant's follow-ups deleted, then `followups_generate()` with the seeded plans, timed (created
  per second), then run again (creates nothing), next to two floors: a bare set-based `INSERT … SELECT` of
  as many rows from the customer table into a temporary copy of the table (its indexes; no foreign keys, no
  WAL), and into service_followup itself (foreign keys checked at once; rolled back);
- the call workspace: OPEN_TASKS open follow-ups in demo (the generated ones topped up), SPECIALISTS
  specialists of 客服组 who each loop "next call" (the boosted form's htmx POST, answered with the call
  page it claimed) → 1–3 s → record the outcome (POST) → 1–3 s. Figures: next call and record, p50 / p95.

Run alone against an existing database: python -m tests.bench.followup_bench (DATABASE_URL, REDIS_URL)."""

from __future__ import annotations

import http.client
import random
import secrets
import statistics
import threading
import time
from urllib.parse import urlencode

OPEN_TASKS = 200_000
SPECIALISTS = 50


def _tenant():
    from accounts.models import Tenant

    return Tenant.objects.get(slug="demo")


def measure_generation() -> dict:
    """Generation from scratch and again, and the INSERT … SELECT floor for the same number of rows."""
    from django.db import connection, transaction
    from django.utils import timezone
    from django_scopes import scope

    from service.models import Answer, Appointment, Complaint, FollowUp, FollowUpCall, FollowUpPlan
    from service.services.generation import followups_generate
    from tests.bench.floor import empty

    tenant = _tenant()
    with scope(tenant=tenant), timezone.override(tenant.timezone):
        plan_id = FollowUpPlan.objects.values_list("pk", flat=True).first()
        # no follow-ups, calls or answers: the references to them cleared, then the tables emptied
        Complaint.objects.update(feedback_followup=None, followup_call=None)
        Appointment.objects.update(followup=None, followup_call=None)
        empty(Answer, FollowUpCall, FollowUp)
        started = time.perf_counter()
        first = followups_generate(tenant)
        first_seconds = time.perf_counter() - started
        started = time.perf_counter()
        again = followups_generate(tenant)
        again_seconds = time.perf_counter() - started
    floor = "INSERT INTO {table} (tenant_id, created_at, updated_at, plan_id, customer_id, vehicle_id, occasion, " \
            "due_on, visible_from, expires_on, assignee_id, department_id, priority, status, attempts) " \
            "SELECT c.tenant_id, now(), now(), %s, c.id, NULL, DATE '1000-01-01', current_date, current_date, " \
            "current_date + 7, c.owner_id, c.department_id, 2, 'open', 0 " \
            "FROM customers_customer c WHERE c.tenant_id = %s LIMIT %s ON CONFLICT DO NOTHING"
    rows = [plan_id, tenant.pk, max(first.created, 1)]
    with connection.cursor() as cursor:  # a temporary copy: its indexes, no foreign keys, no WAL
        cursor.execute("CREATE TEMP TABLE floor_followup (LIKE service_followup INCLUDING ALL)")
        started = time.perf_counter()
        cursor.execute(floor.format(table="floor_followup"), rows)
        floor_seconds = time.perf_counter() - started
        floor_rows = cursor.rowcount
        cursor.execute("DROP TABLE floor_followup")
    with transaction.atomic(), connection.cursor() as cursor:  # the table itself, foreign keys checked; undone
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        started = time.perf_counter()
        cursor.execute(floor.format(table="service_followup"), rows)
        table_seconds = time.perf_counter() - started
        table_rows = cursor.rowcount
        transaction.set_rollback(True)
    return {"created": first.created, "seconds": first_seconds, "again_created": again.created,
            "again_seconds": again_seconds, "floor_rows": floor_rows, "floor_seconds": floor_seconds,
            "table_rows": table_rows, "table_seconds": table_seconds, "plans": first.plans}


def prepare_workspace(total: int = OPEN_TASKS, specialists: int = SPECIALISTS) -> list[str]:
    """SPECIALISTS specialists of 客服组 (客服专员（服务）), `total` open follow-ups in demo (half assigned to
    them, half in 客服组's queue, due over the last and next ten days), calls around the clock. Returns the
    specialists' session keys."""
    from datetime import time as clock

    from django.db import connection
    from django_scopes import scope

    from accounts.models import Department, Position, PositionAssignment, Staff, User
    from service.models import FollowUp, FollowUpPlan, ServiceSettings
    from tests.bench.floor import login_session

    tenant = _tenant()
    with scope(tenant=tenant):
        ServiceSettings.objects.update(calls_from=clock(0), calls_until=clock(0))
        position = Position.objects.get(title="客服专员（服务）")
        desk = Department.objects.get(name="客服组")
        staff_ids = []
        for n in range(specialists):
            user, _made = User.objects.get_or_create(username=f"demo.cs{n:03d}",
                                                     defaults={"last_name": "客", "first_name": f"服{n}"})
            staff, made = Staff.objects.get_or_create(user=user,
                                                      defaults={"tenant": tenant, "employee_no": f"CS{n:03d}"})
            if made:
                PositionAssignment.objects.create(tenant=tenant, staff=staff, position=position)
            staff_ids.append(staff.pk)
        missing = total - FollowUp.objects.filter(status="open").count()
        plan = FollowUpPlan.objects.get(name="维修后2日回访")
        if missing > 0:
            with connection.cursor() as cursor:
                cursor.execute("""
                    INSERT INTO service_followup (tenant_id, created_at, updated_at, plan_id, customer_id, vehicle_id,
                        occasion, due_on, visible_from, expires_on, assignee_id, department_id, priority, status,
                        attempts)
                    SELECT %(tenant)s, now(), now(), %(plan)s, c.id, NULL, DATE '2000-01-01' + (c.id %% 9000)::int,
                           current_date + (c.id %% 21)::int - 10, current_date + (c.id %% 21)::int - 11,
                           current_date + 60,
                           CASE WHEN c.id %% 2 = 0 THEN (%(staff)s::bigint[])[1 + (c.id / 2) %% %(n)s] END,
                           %(desk)s, 1 + c.id %% 3, 'open', 0
                    FROM customers_customer c WHERE c.tenant_id = %(tenant)s
                    ORDER BY c.id LIMIT %(missing)s
                    ON CONFLICT DO NOTHING""",
                               {"tenant": tenant.pk, "plan": plan.pk, "staff": staff_ids, "n": len(staff_ids),
                                "desk": desk.pk, "missing": missing})
                cursor.execute("ANALYZE service_followup")
        open_count = FollowUp.objects.filter(status="open").count()
    print(f"  workspace: {open_count:,} open follow-ups in demo, {specialists} specialists", flush=True)
    return [login_session(f"demo.cs{n:03d}") for n in range(specialists)]


HTMX = {"HX-Request": "true", "HX-Boosted": "true", "HX-Target": "main"}  # what the boosted workspace form sends


def _request(conn, method, path, cookies, body=None, headers=None):
    token = cookies["csrftoken"]
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), "Host": "127.0.0.1",
               "X-CSRFToken": token, **(headers or {})}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=urlencode(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    response.read()
    if response.status not in (200, 302):
        raise AssertionError(f"{method} {path} answered {response.status}")
    return response


def workspace_under_load(port: int, sessions: list[str], seconds: float) -> dict[str, tuple[float, float, int]]:
    """One thread per specialist: next call (POST + the page it leads to) → 1–3 s → record → 1–3 s. Each
    specialist's first round is a warm-up, not counted."""
    samples: dict[str, list[float]] = {"next call": [], "record a call": []}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def specialist(i, session):
        rng = random.Random(i)
        cookies = {"sessionid": session, "csrftoken": secrets.token_hex(16)}  # Django accepts [a-zA-Z0-9] only
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        time.sleep(rng.uniform(0, 2))
        warming = True  # the first call of each specialist is not counted: it fills the per-process caches
        while time.monotonic() < stop_at:
            start = time.perf_counter()
            taken = _request(conn, "POST", "/service/followups/", cookies, {}, HTMX)
            location = taken.getheader("HX-Push-Url") or taken.getheader("Location", "")
            if "/service/followups/" not in location or location.rstrip("/").endswith("followups"):
                break  # nothing left to call
            if taken.status == 302:  # without htmx: the redirect to the call page
                _request(conn, "GET", location, cookies)
            took = (time.perf_counter() - start) * 1000
            time.sleep(rng.uniform(1, 3))
            outcome = rng.choice(["wrong_number", "rescheduled", "not_reached"])
            body = {"outcome": outcome, "then": "queue", "note": "bench",
                    "retry_at": time.strftime("%Y-%m-%dT%H:%M", time.localtime(time.time() + 86400 * 3))}
            start = time.perf_counter()
            _request(conn, "POST", location, cookies, body)
            recorded = (time.perf_counter() - start) * 1000
            if not warming:
                with lock:
                    samples["next call"].append(took)
                    samples["record a call"].append(recorded)
            warming = False
            time.sleep(rng.uniform(1, 3))
        conn.close()

    threads = [threading.Thread(target=specialist, args=(i, s)) for i, s in enumerate(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = {}
    for name, values in samples.items():
        values.sort()
        result[name] = (statistics.median(values) if values else 0.0,
                        values[max(0, int(len(values) * 0.95) - 1)] if values else 0.0, len(values))
    return result


def generation_lines(g: dict) -> list[str]:
    rate = g["created"] / g["seconds"] if g["seconds"] else 0
    floor_rate = g["floor_rows"] / g["floor_seconds"] if g["floor_seconds"] else 0
    table_rate = g["table_rows"] / g["table_seconds"] if g["table_seconds"] else 0
    per_plan = ", ".join(f"{name} {made:,}" for name, (made, _existing) in g["plans"].items())
    return [
        f"follow-up generation, demo tenant, seeded plans: {g['created']:,} created in {g['seconds']:.2f} s = "
        f"{rate:,.0f}/s; floor INSERT … SELECT of as many rows: {floor_rate:,.0f}/s ({100 * rate / floor_rate:.0f}%)"
        if floor_rate else "follow-up generation: nothing generated",
        f"  floor into service_followup itself (its indexes, foreign keys checked, WAL; rolled back): "
        f"{table_rate:,.0f}/s ({100 * rate / table_rate:.0f}%)" if table_rate else "",
        f"  per plan: {per_plan}",
        f"  re-run: {g['again_created']:,} created in {g['again_seconds']:.2f} s",
    ]


if __name__ == "__main__":
    import django

    django.setup()
    for line in generation_lines(measure_generation()):
        print(line)
