"""Writes of the CRM usage report: the login record, and the rollup (analytics.models.UsageDay) refreshed set-based
per tenant.

Where each figure comes from (all on the day of the company's time zone, for the person named):

* logins — StaffLogin rows, one per successful login (`usage_login_record`, called on django.contrib.auth's
  `user_logged_in`: the login form, and any other `login()`).
* records created — the customer archive's inserts (customers and vehicles, from django-pghistory's event rows:
  the person is the user pghistory's context recorded for the request that wrote them), customer notes (their
  author), appointments (who booked them), complaints registered (the "registered" entry of the complaint's
  history, by its actor) and leads registered (the lead's first history entry, status new, by its staff member).
* records changed — the customer archive's updates (pghistory, as above), the complaint history's entries by a
  person other than the registration (assignments, responses, notes, resolutions…: the clock's own entries have no
  actor), and the lead history's other entries (assignments, status changes).
  These are the rows that carry who wrote them and when, written once and never moved: a day's figure stays put,
  and the incremental fill only has to read what came after its mark. Rows written without a person (the import's
  bulk writes, the demo seed, the clocks) count for nobody. Follow-up calls are counted on their own (calls).
* calls — every follow-up call the person logged; customers reached — the distinct customers of their calls that
  reached the customer (service.models.FollowUpCall.REACHED) that day: two calls to one customer count once.
* hours to the first attempt — for each follow-up, from the first moment of its due day (the company's time zone:
  the calling hours differ by plan and weekday; the due day is what the queue shows) to its first call (by anyone),
  in whole hours rounded down, 0 when called before the due day; counted on the day of that first call, for its
  caller.

Incremental fill: the tenant's RollupState keeps `usage_mark`, the moment (less a margin for transactions still
open) up to which the sources have been read. Every source row is dated by when it was written, so a run
recomputes the days from the mark's day to today; a missed run is caught up by the next (the mark has not moved);
a second run writes the same rows. Without a mark (the first run, or `rebuild`) every day from the first
source row on is recomputed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone
from django_scopes import scope

from accounts.models import Staff, Tenant
from analytics.models import RollupState, StaffLogin, UsageDay
from service.models import FollowUpCall

LOCK_NAMESPACE = 7_420_004  # pg_advisory_xact_lock(namespace, tenant id): one usage refresh per tenant at a time
MARK_MARGIN = timedelta(minutes=10)

USAGE_SQL = """
WITH archive AS (
    SELECT (e.pgh_created_at AT TIME ZONE %(tz)s)::date AS day, s.id AS staff_id, e.pgh_label AS label
      FROM customers_customerevent e
      JOIN pghistory_context x ON x.id = e.pgh_context_id
      JOIN accounts_staff s ON s.tenant_id = e.tenant_id AND s.user_id::text = x.metadata->>'user'
     WHERE e.tenant_id = %(tenant)s AND e.pgh_created_at >= %(start_at)s AND e.pgh_created_at < %(end_at)s
    UNION ALL
    SELECT (e.pgh_created_at AT TIME ZONE %(tz)s)::date, s.id, e.pgh_label
      FROM customers_vehicleevent e
      JOIN pghistory_context x ON x.id = e.pgh_context_id
      JOIN accounts_staff s ON s.tenant_id = e.tenant_id AND s.user_id::text = x.metadata->>'user'
     WHERE e.tenant_id = %(tenant)s AND e.pgh_created_at >= %(start_at)s AND e.pgh_created_at < %(end_at)s
), work AS (
    SELECT day, staff_id, count(*) FILTER (WHERE label = 'insert') AS created,
           count(*) FILTER (WHERE label = 'update') AS changed
      FROM archive GROUP BY 1, 2
    UNION ALL
    SELECT (created_at AT TIME ZONE %(tz)s)::date, author_id, count(*), 0
      FROM customers_customernote
     WHERE tenant_id = %(tenant)s AND author_id IS NOT NULL AND created_at >= %(start_at)s AND created_at < %(end_at)s
     GROUP BY 1, 2
    UNION ALL
    SELECT (created_at AT TIME ZONE %(tz)s)::date, booked_by_id, count(*), 0
      FROM service_appointment
     WHERE tenant_id = %(tenant)s AND booked_by_id IS NOT NULL
       AND created_at >= %(start_at)s AND created_at < %(end_at)s
     GROUP BY 1, 2
    UNION ALL
    SELECT (created_at AT TIME ZONE %(tz)s)::date, actor_id, count(*) FILTER (WHERE kind = 'opened'),
           count(*) FILTER (WHERE kind <> 'opened')
      FROM service_complaintevent
     WHERE tenant_id = %(tenant)s AND actor_id IS NOT NULL AND created_at >= %(start_at)s AND created_at < %(end_at)s
     GROUP BY 1, 2
    UNION ALL
    SELECT (created_at AT TIME ZONE %(tz)s)::date, staff_id, count(*) FILTER (WHERE status = 'new'),
           count(*) FILTER (WHERE status <> 'new')
      FROM customers_leadevent
     WHERE tenant_id = %(tenant)s AND staff_id IS NOT NULL AND created_at >= %(start_at)s AND created_at < %(end_at)s
     GROUP BY 1, 2
), firsts AS (
    SELECT (c.created_at AT TIME ZONE %(tz)s)::date AS day, c.staff_id,
           greatest(0, floor(extract(epoch FROM c.created_at - (f.due_on::timestamp AT TIME ZONE %(tz)s)) / 3600)
           )::int AS hours
      FROM service_followupcall c
      JOIN service_followup f ON f.id = c.followup_id AND f.tenant_id = c.tenant_id
     WHERE c.tenant_id = %(tenant)s AND c.staff_id IS NOT NULL
       AND c.created_at >= %(start_at)s AND c.created_at < %(end_at)s
       AND NOT EXISTS (SELECT 1 FROM service_followupcall p
                        WHERE p.tenant_id = c.tenant_id AND p.followup_id = c.followup_id
                          AND (p.created_at, p.id) < (c.created_at, c.id))
), histogram AS (
    SELECT day, staff_id, sum(n) AS n, jsonb_object_agg(hours::text, n) AS hours
      FROM (SELECT day, staff_id, hours, count(*) AS n FROM firsts GROUP BY 1, 2, 3) h
     GROUP BY 1, 2
), figures AS (
    SELECT (created_at AT TIME ZONE %(tz)s)::date AS day, staff_id, count(*) AS logins, 0 AS created,
           0 AS changed, 0 AS calls, 0 AS reached, 0 AS first_attempts, NULL::jsonb AS hours
      FROM analytics_stafflogin
     WHERE tenant_id = %(tenant)s AND created_at >= %(start_at)s AND created_at < %(end_at)s
     GROUP BY 1, 2
    UNION ALL
    SELECT day, staff_id, 0, created, changed, 0, 0, 0, NULL FROM work
    UNION ALL
    SELECT (created_at AT TIME ZONE %(tz)s)::date, staff_id, 0, 0, 0, count(*),
           count(DISTINCT customer_id) FILTER (WHERE outcome = ANY(%(reached)s)), 0, NULL
      FROM service_followupcall
     WHERE tenant_id = %(tenant)s AND staff_id IS NOT NULL AND created_at >= %(start_at)s AND created_at < %(end_at)s
     GROUP BY 1, 2
    UNION ALL
    SELECT day, staff_id, 0, 0, 0, 0, 0, n, hours FROM histogram
)
INSERT INTO analytics_usageday (tenant_id, created_at, updated_at, day, staff_id, logins, created, changed, calls,
                                customers_reached, first_attempts, first_attempt_hours)
SELECT %(tenant)s, now(), now(), day, staff_id, sum(logins), sum(created), sum(changed), sum(calls), sum(reached),
       sum(first_attempts), coalesce((array_agg(hours) FILTER (WHERE hours IS NOT NULL))[1], '{}'::jsonb)
  FROM figures
 WHERE staff_id IN (SELECT id FROM accounts_staff WHERE tenant_id = %(tenant)s)
 GROUP BY day, staff_id
ON CONFLICT ON CONSTRAINT usageday_once DO UPDATE SET
    updated_at = EXCLUDED.updated_at, logins = EXCLUDED.logins, created = EXCLUDED.created,
    changed = EXCLUDED.changed, calls = EXCLUDED.calls, customers_reached = EXCLUDED.customers_reached,
    first_attempts = EXCLUDED.first_attempts, first_attempt_hours = EXCLUDED.first_attempt_hours
"""


def usage_login_record(*, user, at: datetime | None = None) -> StaffLogin | None:
    """Count one successful login of a tenant's staff member (None for a platform operator without a tenant).
    Who and when only."""
    staff = getattr(user, "staff", None)
    if staff is None:
        return None
    with scope(tenant=staff.tenant):
        login = StaffLogin.objects.create(tenant_id=staff.tenant_id, staff=staff)
        if at is not None:  # a test or an import of past logins
            StaffLogin.objects.filter(pk=login.pk).update(created_at=at)
            login.created_at = at
    return login


@dataclass
class Refreshed:
    start: date | None
    end: date
    rows: int


def _first_day(tenant: Tenant) -> date | None:
    """The day of the earliest source row (a rebuild starts there)."""
    firsts = [
        StaffLogin.objects.filter(tenant=tenant).aggregate(first=Min("created_at"))["first"],
        FollowUpCall.objects.filter(tenant=tenant).aggregate(first=Min("created_at"))["first"],
        Staff.objects.filter(tenant=tenant).aggregate(first=Min("created_at"))["first"],  # nobody worked before
    ]
    moments = [moment for moment in firsts if moment is not None]
    return tenant.today(min(moments)) if moments else None


def usage_rollups_refresh(*, tenant: Tenant, now: datetime | None = None, rebuild: bool = False) -> Refreshed:
    """Bring the tenant's usage rollup up to date: the days from the fill mark's to today (every day with
    `rebuild`). Idempotent; one transaction; concurrent runs of one tenant wait on its advisory lock."""
    now = now or timezone.now()
    today = tenant.today(now)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, tenant.pk])
        state, _created = RollupState.objects.select_for_update().get_or_create(tenant=tenant)
        mark = None if rebuild else state.usage_mark
        start = tenant.today(mark) if mark is not None else _first_day(tenant)
        rows = 0
        if start is not None:
            start = min(start, today)
            if rebuild:
                UsageDay.objects.filter(tenant=tenant).delete()
            else:
                UsageDay.objects.filter(tenant=tenant, day__gte=start).delete()
            cursor.execute(USAGE_SQL, {
                "tenant": tenant.pk, "tz": tenant.timezone, "start_at": tenant.day_bounds(start)[0],
                "end_at": max(tenant.day_bounds(today)[1], now), "reached": list(FollowUpCall.REACHED)})
            rows = cursor.rowcount
        state.usage_mark = now - MARK_MARGIN
        state.usage_refreshed_at = now
        state.save(update_fields=["usage_mark", "usage_refreshed_at", "updated_at"])
    return Refreshed(start, today, rows)
