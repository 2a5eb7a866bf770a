"""Writes of the analytics app: the follow-up report's rollups, refreshed set-based per tenant.

`followup_rollups_refresh` recomputes a range of days from the raw rows in one transaction: the range's rollup
rows are deleted and inserted again with `INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE` (a concurrent run
waits on the tenant's advisory lock, and a row it wrote meanwhile is updated, not duplicated), then the month
rows of the months the range touches are summed again from their day rows. The periodic task
refreshes the days whose figures can still change: a follow-up can close until it expires, so from the longest
expiry of the tenant's plans back, to the furthest a follow-up shows before its due date ahead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Tenant
from analytics.models import AnswerDay, AnswerMonth, FollowUpDay, FollowUpMonth, RollupState
from service.models import Answer, FollowUp, FollowUpCall, FollowUpPlan, Question

LOCK_NAMESPACE = 7_420_001  # pg_advisory_xact_lock(namespace, tenant id): one refresh per tenant at a time
MAX_RANGE_DAYS = 3660

FOLLOWUP_SQL = """
INSERT INTO {rollup} (tenant_id, created_at, updated_at, day, plan_id, staff_id, department_id, due, done, on_time,
                      calls, reached, need, purchase_intent, complaint, grievance, proposals)
SELECT %(tenant)s, now(), now(), day, plan_id, staff_id, department_id, sum(due), sum(done), sum(on_time),
       sum(calls), sum(reached), sum(need), sum(purchase_intent), sum(complaint), sum(grievance), sum(proposals)
FROM (
    SELECT f.due_on AS day, f.plan_id, f.assignee_id AS staff_id, f.department_id,
           count(*) AS due,
           count(*) FILTER (WHERE f.status = 'done') AS done,
           count(*) FILTER (WHERE f.status = 'done'
                            AND (f.closed_at AT TIME ZONE %(tz)s)::date <= f.due_on) AS on_time,
           0 AS calls, 0 AS reached, 0 AS need, 0 AS purchase_intent, 0 AS complaint, 0 AS grievance,
           0 AS proposals
      FROM {followup} f
     WHERE f.tenant_id = %(tenant)s AND f.due_on BETWEEN %(start)s AND %(end)s
     GROUP BY 1, 2, 3, 4
    UNION ALL
    SELECT (c.created_at AT TIME ZONE %(tz)s)::date, f.plan_id, c.staff_id, f.department_id,
           0, 0, 0,
           count(*),
           count(*) FILTER (WHERE c.outcome = ANY(%(reached)s)),
           count(*) FILTER (WHERE c.feedback = 'need'),
           count(*) FILTER (WHERE c.feedback = 'purchase_intent'),
           count(*) FILTER (WHERE c.feedback = 'complaint'),
           count(*) FILTER (WHERE c.feedback = 'grievance'),
           count(*) FILTER (WHERE c.proposal <> '')
      FROM {call} c JOIN {followup} f ON f.id = c.followup_id AND f.tenant_id = c.tenant_id
     WHERE c.tenant_id = %(tenant)s AND c.created_at >= %(start_at)s AND c.created_at < %(end_at)s
     GROUP BY 1, 2, 3, 4
) figures
GROUP BY day, plan_id, staff_id, department_id
ON CONFLICT ON CONSTRAINT followupday_once DO UPDATE SET
    updated_at = EXCLUDED.updated_at, due = EXCLUDED.due, done = EXCLUDED.done, on_time = EXCLUDED.on_time,
    calls = EXCLUDED.calls, reached = EXCLUDED.reached, need = EXCLUDED.need,
    purchase_intent = EXCLUDED.purchase_intent, complaint = EXCLUDED.complaint, grievance = EXCLUDED.grievance,
    proposals = EXCLUDED.proposals
"""

ANSWER_SQL = """
INSERT INTO {rollup} (tenant_id, created_at, updated_at, day, question_id, value, plan_id, staff_id, department_id,
                      count)
SELECT %(tenant)s, now(), now(), (c.created_at AT TIME ZONE %(tz)s)::date, a.question_id, v.value, f.plan_id,
       c.staff_id, f.department_id, count(*)
  FROM {answer} a
  JOIN {call} c ON c.id = a.call_id AND c.tenant_id = a.tenant_id
  JOIN {followup} f ON f.id = c.followup_id AND f.tenant_id = c.tenant_id
  JOIN {question} q ON q.id = a.question_id
  CROSS JOIN LATERAL (
      SELECT a.number::text AS value WHERE q.kind IN ('scale', 'yes_no') AND a.number IS NOT NULL
      UNION ALL
      SELECT left(choice, 200) FROM unnest(a.choices) AS choice WHERE q.kind IN ('single', 'multiple')
  ) v
 WHERE a.tenant_id = %(tenant)s AND c.tenant_id = %(tenant)s
   AND c.created_at >= %(start_at)s AND c.created_at < %(end_at)s
 GROUP BY 4, 5, 6, 7, 8, 9
ON CONFLICT ON CONSTRAINT answerday_once DO UPDATE SET updated_at = EXCLUDED.updated_at, count = EXCLUDED.count
"""

# the months from %(first)s to %(last)s (first days), summed from their day rows
FOLLOWUP_MONTH_SQL = """
INSERT INTO {month} (tenant_id, created_at, updated_at, month, plan_id, staff_id, department_id, due, done, on_time,
                     calls, reached, need, purchase_intent, complaint, grievance, proposals)
SELECT %(tenant)s, now(), now(), date_trunc('month', day)::date, plan_id, staff_id, department_id, sum(due),
       sum(done), sum(on_time), sum(calls), sum(reached), sum(need), sum(purchase_intent), sum(complaint),
       sum(grievance), sum(proposals)
  FROM {day}
 WHERE tenant_id = %(tenant)s AND day >= %(first)s AND day < (%(last)s::date + interval '1 month')::date
 GROUP BY 4, 5, 6, 7
"""

ANSWER_MONTH_SQL = """
INSERT INTO {month} (tenant_id, created_at, updated_at, month, question_id, value, plan_id, staff_id, department_id,
                     count)
SELECT %(tenant)s, now(), now(), date_trunc('month', day)::date, question_id, value, plan_id, staff_id,
       department_id, sum(count)
  FROM {day}
 WHERE tenant_id = %(tenant)s AND day >= %(first)s AND day < (%(last)s::date + interval '1 month')::date
 GROUP BY 4, 5, 6, 7, 8, 9
"""


def _tables() -> dict[str, str]:
    return {"rollup": FollowUpDay._meta.db_table, "followup": FollowUp._meta.db_table,
            "call": FollowUpCall._meta.db_table, "answer": Answer._meta.db_table,
            "question": Question._meta.db_table}


@dataclass
class Refreshed:
    start: date
    end: date
    followup_rows: int
    answer_rows: int


def followup_rollups_refresh(*, tenant: Tenant, start: date, end: date) -> Refreshed:
    """Recompute the tenant's follow-up and answer rollups for the days start…end (inclusive, the company's
    time zone) from the raw rows. Idempotent; one transaction."""
    if end < start:
        raise ValidationError(_("The end of the range comes before its start."))
    if (end - start).days > MAX_RANGE_DAYS:
        raise ValidationError(_("Rebuild at most ten years at once."))
    params = {"tenant": tenant.pk, "tz": tenant.timezone, "start": start, "end": end,
              "start_at": tenant.day_bounds(start)[0], "end_at": tenant.day_bounds(end)[1],
              "reached": list(FollowUpCall.REACHED)}
    tables = _tables()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, tenant.pk])
        FollowUpDay.objects.filter(tenant=tenant, day__range=(start, end)).delete()
        AnswerDay.objects.filter(tenant=tenant, day__range=(start, end)).delete()
        cursor.execute(FOLLOWUP_SQL.format(**tables), params)
        followup_rows = cursor.rowcount
        cursor.execute(ANSWER_SQL.format(**{**tables, "rollup": AnswerDay._meta.db_table}), params)
        answer_rows = cursor.rowcount
        _refresh_months(cursor, tenant, start, end)
        RollupState.objects.update_or_create(tenant=tenant, defaults={"refreshed_at": timezone.now()})
    return Refreshed(start, end, followup_rows, answer_rows)


def _refresh_months(cursor, tenant: Tenant, start: date, end: date) -> None:
    """The month rows of the months start…end touch, summed again from their day rows."""
    first, last = start.replace(day=1), end.replace(day=1)
    FollowUpMonth.objects.filter(tenant=tenant, month__range=(first, last)).delete()
    AnswerMonth.objects.filter(tenant=tenant, month__range=(first, last)).delete()
    params = {"tenant": tenant.pk, "first": first, "last": last}
    cursor.execute(FOLLOWUP_MONTH_SQL.format(month=FollowUpMonth._meta.db_table, day=FollowUpDay._meta.db_table),
                   params)
    cursor.execute(ANSWER_MONTH_SQL.format(month=AnswerMonth._meta.db_table, day=AnswerDay._meta.db_table), params)


def _recent_range(tenant: Tenant, now: datetime | None = None) -> tuple[date, date]:
    """The days whose figures can still change: back to the longest expiry of the tenant's plans (a follow-up
    closes until it expires; calls of yesterday evening arrive until the hour's run), ahead to the furthest a
    follow-up shows before its due date (it can be completed early)."""
    today = tenant.today(now)
    limits = FollowUpPlan.objects.filter(tenant=tenant).aggregate(back=Max("expires_days_after"),
                                                                  ahead=Max("shows_days_before"))
    back = (limits["back"] or 0) + 2
    ahead = limits["ahead"] or 0
    return today - timedelta(days=back), today + timedelta(days=ahead)


def followup_rollups_refresh_recent(*, tenant: Tenant, now: datetime | None = None) -> Refreshed:
    start, end = _recent_range(tenant, now)
    return followup_rollups_refresh(tenant=tenant, start=start, end=end)


def followup_rollups_rebuild(*, tenant: Tenant, start: date | None = None, end: date | None = None) -> Refreshed:
    """Everything from the tenant's first follow-up (or `start`) to the end of the recent range (or `end`)."""
    if start is None:
        first_due = FollowUp.objects.filter(tenant=tenant).aggregate(first=Min("due_on"))["first"]
        first_call = FollowUpCall.objects.filter(tenant=tenant).aggregate(first=Min("created_at"))["first"]
        candidates = [d for d in (first_due, first_call and tenant.local_time(first_call).date()) if d is not None]
        start = min(candidates) if candidates else tenant.today()
    if end is None:
        end = _recent_range(tenant)[1]
    return followup_rollups_refresh(tenant=tenant, start=min(start, end), end=end)
