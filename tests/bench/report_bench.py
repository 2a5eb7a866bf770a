"""Follow-up report benchmark, called by `make bench` (tests/bench/__main__.py):

a year of follow-up work in the demo tenant, written set-based (FOLLOWUPS follow-ups due over the last 365
days across the seeded plans and SPECIALISTS callers, ~1.6 calls each, questionnaire answers for the completed
calls of the plans with a questionnaire), the rollups rebuilt (timed), then the report page (this month, and
the whole year) measured next to the floor of the same run: under load (served from the cached HTML of the
figures, as every view until the next refresh is) and cold, in process (the cache emptied before each request).

Run alone against an existing database (DATABASE_URL, REDIS_URL; migrated, seed_demo done):
    python -m tests.bench.report_bench [--followups N]   # in-process timings, report next to the floor list"""

from __future__ import annotations

import statistics
import sys
import time

FOLLOWUPS = 500_000
SPECIALISTS = 50


def _insert(cursor, model, given: dict[str, str], select_tail: str, params: dict) -> int:
    """INSERT INTO <model> (<every column>) SELECT <given expressions, the field defaults for the rest> <tail>:
    columns added to the model later get their default without this benchmark changing."""
    from django.db.models import NOT_PROVIDED

    columns, exprs = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        if field.name in given:
            exprs.append(given[field.name])
        elif field.name in ("created_at", "updated_at"):
            exprs.append("now()")
        elif field.default is not NOT_PROVIDED and not callable(field.default):
            key = f"default_{field.column}"
            params[key] = field.default
            exprs.append(f"%({key})s")
        elif field.default is list:
            exprs.append("'{}'")
        else:
            exprs.append("NULL")
    cursor.execute(f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) SELECT {', '.join(exprs)} "
                   f"{select_tail}", params)
    return cursor.rowcount


def prepare_year(followups: int = FOLLOWUPS) -> dict:
    """Write the year (skipped when the demo tenant has it already), rebuild the rollups; the figures."""
    from django.db import connection
    from django.utils import timezone
    from django_scopes import scope

    from accounts.models import Department, PositionAssignment, Staff, Tenant
    from analytics.services.followup_rollups import followup_rollups_rebuild
    from service.models import Answer, FollowUp, FollowUpCall, FollowUpPlan

    tenant = Tenant.objects.get(slug="demo")
    with scope(tenant=tenant), timezone.override(tenant.timezone), connection.cursor() as cursor:
        today = tenant.today()
        desk = Department.objects.get(name="客服组")
        staff = list(Staff.objects.filter(pk__in=PositionAssignment.objects.filter(
            position__department=desk).values("staff_id")).order_by("pk").values_list("pk", flat=True)[:SPECIALISTS])
        plans = list(FollowUpPlan.objects.order_by("pk").values_list("pk", flat=True))
        params = {"tenant": tenant.pk, "today": today, "staff": staff, "ns": len(staff), "plans": plans,
                  "np": len(plans), "desk": desk.pk, "n": followups, "tz": tenant.timezone}
        started = time.perf_counter()
        marker = "DATE '0100-01-01'"  # + up to FOLLOWUPS days stays before 1900: the year's rows are told apart
        if not FollowUp.objects.filter(occasion__lt="1900-01-01").exists():
            made = _insert(cursor, FollowUp, {
                "tenant": "%(tenant)s", "plan": "(%(plans)s::bigint[])[1 + g %% %(np)s]", "customer": "c.id",
                "occasion": f"{marker} + g", "due_on": "%(today)s::date - (g %% 365)",
                "visible_from": "%(today)s::date - (g %% 365)", "expires_on": "%(today)s::date - (g %% 365) + 7",
                "assignee": "CASE WHEN g %% 10 <> 0 THEN (%(staff)s::bigint[])[1 + (g / 7) %% %(ns)s] END",
                "department": "%(desk)s",
                "status": "CASE WHEN g %% 365 < 3 THEN 'open' WHEN g %% 10 < 7 THEN 'done' "
                          "WHEN g %% 10 < 8 THEN 'unreachable' WHEN g %% 10 < 9 THEN 'expired' ELSE 'open' END",
                "closed_at": "CASE WHEN g %% 365 >= 3 AND g %% 10 < 9 THEN ((%(today)s::date - (g %% 365) "
                             "+ (g %% 3) - 1)::timestamp + time '10:00') AT TIME ZONE %(tz)s END",
            }, """FROM generate_series(1, %(n)s) g
                  JOIN (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM customers_customer
                         WHERE tenant_id = %(tenant)s ORDER BY id LIMIT %(n)s) c
                    ON c.rn = 1 + g %% LEAST(%(n)s, (SELECT count(*) FROM customers_customer
                                                   WHERE tenant_id = %(tenant)s))""", params)
            # the closing call of every closed follow-up, and a first unanswered attempt for six in ten
            tail = """FROM service_followup f WHERE f.tenant_id = %(tenant)s AND f.occasion < DATE '1900-01-01'"""
            calls = _insert(cursor, FollowUpCall, {
                "tenant": "f.tenant_id", "followup": "f.id", "customer": "f.customer_id",
                "staff": "COALESCE(f.assignee_id, (%(staff)s::bigint[])[1 + f.id %% %(ns)s])",
                "outcome": "CASE f.status WHEN 'done' THEN 'completed' WHEN 'unreachable' THEN 'not_reached' "
                           "WHEN 'expired' THEN 'rescheduled' ELSE 'not_reached' END",
                "retry_at": "CASE WHEN f.status <> 'done' THEN f.closed_at END",
                "feedback": "CASE f.id %% 20 WHEN 0 THEN 'need' WHEN 1 THEN 'complaint' WHEN 2 THEN 'grievance' "
                            "WHEN 3 THEN 'purchase_intent' ELSE '' END",
                "proposal": "CASE WHEN f.id %% 100 = 0 THEN '建议在问卷中增加关于等待时间的问题' ELSE '' END",
                "version": "(SELECT max(v.id) FROM service_questionnaireversion v JOIN service_followupplan p "
                           "ON p.questionnaire_id = v.questionnaire_id WHERE p.id = f.plan_id AND f.status = 'done')",
                "note": "''", "feedback_text": "''",
            }, tail + " AND f.closed_at IS NOT NULL", params)
            cursor.execute("UPDATE service_followupcall SET created_at = f.closed_at FROM service_followup f "
                           "WHERE f.id = service_followupcall.followup_id AND f.occasion < DATE '1900-01-01'")
            calls += _insert(cursor, FollowUpCall, {
                "tenant": "f.tenant_id", "followup": "f.id", "customer": "f.customer_id",
                "staff": "COALESCE(f.assignee_id, (%(staff)s::bigint[])[1 + f.id %% %(ns)s])",
                "outcome": "'not_reached'", "retry_at": "f.due_on::timestamp AT TIME ZONE %(tz)s",
                "note": "''", "feedback_text": "''", "proposal": "''", "feedback": "''",
                "created_at": "(f.due_on::timestamp + time '09:00') AT TIME ZONE %(tz)s",
            }, tail + " AND f.id %% 10 < 6", params)
            answers = _insert(cursor, Answer, {
                "tenant": "c.tenant_id", "call": "c.id", "question": "q.id",
                "number": "CASE q.kind WHEN 'scale' THEN q.scale_min + c.id %% (q.scale_max - q.scale_min + 1) "
                          "WHEN 'yes_no' THEN (c.id %% 4 > 0)::int END",
                "text": "CASE WHEN q.kind = 'text' THEN '希望保养时等待时间再短一些' ELSE '' END",
                "choices": "CASE WHEN q.kind IN ('single', 'multiple') THEN ARRAY[(string_to_array(q.choices, "
                           "E'\\n'))[1 + c.id %% array_length(string_to_array(q.choices, E'\\n'), 1)]] "
                           "ELSE '{}' END",
            }, """FROM service_followupcall c JOIN service_question q ON q.version_id = c.version_id
                  WHERE c.tenant_id = %(tenant)s AND c.version_id IS NOT NULL
                    AND (q.kind <> 'text' OR c.id %% 20 = 0)""", params)
            cursor.execute("ANALYZE service_followup; ANALYZE service_followupcall; ANALYZE service_answer")
        else:
            made = calls = answers = 0
        written = time.perf_counter() - started
        started = time.perf_counter()
        rebuilt = followup_rollups_rebuild(tenant=tenant, start=today.replace(year=today.year - 1))
        rebuild_seconds = time.perf_counter() - started
        cursor.execute("ANALYZE analytics_followupday; ANALYZE analytics_answerday; ANALYZE analytics_followupmonth; "
                       "ANALYZE analytics_answermonth")
    return {"followups": made, "calls": calls, "answers": answers, "write_seconds": written,
            "rollup_rows": rebuilt.followup_rows + rebuilt.answer_rows, "rebuild_seconds": rebuild_seconds,
            "year_from": str(today.replace(year=today.year - 1)), "today": str(today)}


def report_paths(prepared: dict) -> dict[str, str]:
    return {"follow-up report, this month": "/reports/followups/",
            "follow-up report, a year": f"/reports/followups/?date_from={prepared['year_from']}"
                                        f"&date_to={prepared['today']}"}


def report_lines(prepared: dict) -> list[str]:
    rate = prepared["rollup_rows"] / prepared["rebuild_seconds"] if prepared["rebuild_seconds"] else 0
    return [f"follow-up report data: {prepared['followups']:,} follow-ups, {prepared['calls']:,} calls, "
            f"{prepared['answers']:,} answers written in {prepared['write_seconds']:.1f} s; rollup rebuild of the "
            f"year: {prepared['rollup_rows']:,} rows in {prepared['rebuild_seconds']:.2f} s ({rate:,.0f} rows/s)"]


def _timed(call, runs: int) -> tuple[float, float]:
    samples = []
    for _run in range(runs):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def measure_in_process(prepared: dict, runs: int = 40, *, cold: bool = False,
                       paths: dict[str, str] | None = None) -> list[str]:
    """The report (or these pages) as the director sees it, next to the bare 50-row list (tests/bench/floor.py),
    in process. With `cold`, the cache is emptied before every request: the figures computed, nothing served
    from the cached HTML (the first view after a refresh)."""
    from django.core.cache import cache
    from django.test import Client, RequestFactory

    from accounts.models import User
    from tests.bench.floor import customer_list

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username="demo.director"))
    lines = []
    request = RequestFactory().get("/floor/customers")
    request.user = User.objects.get(username="demo.director")
    f50, f95 = _timed(lambda: customer_list(request), runs)
    for name, path in (paths or report_paths(prepared)).items():
        client.get(path)

        def get(path=path):
            if cold:
                cache.clear()
            response = client.get(path)
            assert response.status_code == 200, response.status_code

        p50, p95 = _timed(get, runs)
        label = f"{name}{', cold' if cold else ''}"
        lines.append(f"{label:46} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms   floor list p50 {f50:6.1f} p95 {f95:6.1f} "
                     f"(×{p95 / f95:.1f}; one client, in process)")
    return lines


if __name__ == "__main__":
    import argparse

    import django

    django.setup()
    parser = argparse.ArgumentParser()
    parser.add_argument("--followups", type=int, default=FOLLOWUPS)
    args = parser.parse_args()
    prepared = prepare_year(args.followups)
    print("\n".join(report_lines(prepared)))
    print("\n".join(measure_in_process(prepared)))
    print("\n".join(measure_in_process(prepared, cold=True)))
    sys.exit(0)
