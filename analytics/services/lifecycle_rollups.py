"""Writes of the churn and retention rollup (analytics.models.LifecycleMonth / LifecycleFlow / LifecycleCohort),
refreshed set-based per tenant by `INSERT … SELECT` from the purchases and service visits, with the rules of
customers.lifecycle written in SQL.

How a month is computed: each activity (a purchase's contract date, a visit's work-order date; cancelled ones
and merged customers left out) is the customer's last one for the days from its date to the next activity's. A
month's as-of day is its last day (the running month: today); joining each activity to the months whose as-of day
it covers gives one row per customer and month from their first activity on, whose state follows from that last
activity, the first one and the latest return. The flows compare each customer's state with the month before
(`none` before the first activity).

Incremental fill: the tenant's RollupState keeps a mark (the moment, less a margin, from which changed rows have
not been read), the as-of day of the running month and the windows used. A run recomputes the months from the
earliest of: the month of any purchase or visit written since the mark (its date, also when it was cancelled),
the first activity of any customer changed since the mark (an owner, a team or a merge re-keys all their months),
and the month of the last as-of day (a month that has closed since is computed again for its last day). Other
windows than the last run's, or `rebuild`, recompute everything. The cohorts are recomputed whole each run (one
pass over the activities). A second run with nothing changed writes the same rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Min, Q
from django.utils import timezone

from accounts.models import Tenant
from analytics.models import LifecycleCohort, LifecycleFlow, LifecycleMonth, RollupState
from customers.lifecycle import Windows, shift_months, windows_for
from customers.models import Customer, Purchase, ServiceVisit

LOCK_NAMESPACE = 7_420_004  # pg_advisory_xact_lock(namespace, tenant id): one retention refresh per tenant at a time
MARK_MARGIN = timedelta(minutes=10)

# one row per activity of an active customer, up to today, with the one before and after it, the first one and
# whether it is a return (W months or more after the one before)
ACTIVITIES = """
WITH act AS (
    SELECT p.customer_id, p.contract_on AS d, true AS purchase
      FROM customers_purchase p
     WHERE p.tenant_id = %(tenant)s AND p.cancelled_at IS NULL AND p.contract_on <= %(today)s
    UNION ALL
    SELECT v.customer_id, v.opened_on, false
      FROM customers_servicevisit v
     WHERE v.tenant_id = %(tenant)s AND v.cancelled_at IS NULL AND v.opened_on <= %(today)s
),
seq AS (
    SELECT a.customer_id, c.owner_id, c.department_id, a.d, a.purchase,
           lag(a.d) OVER w AS prev, lead(a.d) OVER w AS nxt, min(a.d) OVER (PARTITION BY a.customer_id) AS first
      FROM act a
      JOIN customers_customer c ON c.id = a.customer_id AND c.tenant_id = %(tenant)s AND c.is_active
    WINDOW w AS (PARTITION BY a.customer_id ORDER BY a.d)
)"""

STATES = ACTIVITIES + """,
spans AS (
    SELECT s.customer_id, s.owner_id, s.department_id, s.d AS last, s.first, s.nxt,
           max(CASE WHEN s.prev IS NOT NULL AND (s.prev + make_interval(months => %(w)s))::date <= s.d THEN s.d END)
               OVER (PARTITION BY s.customer_id ORDER BY s.d ROWS UNBOUNDED PRECEDING) AS returned
      FROM seq s
),
months AS (
    SELECT m::date AS month, LEAST((m + interval '1 month' - interval '1 day')::date, %(today)s) AS asof
      FROM generate_series(%(from)s::date, %(last)s::date, interval '1 month') AS m
),
states AS (
    SELECT mo.month, sp.customer_id, sp.owner_id, sp.department_id,
           CASE WHEN (sp.last + make_interval(months => %(w)s))::date <= mo.asof THEN 'lapsed'
                WHEN (sp.last + make_interval(months => %(wm)s))::date <= mo.asof THEN 'thin_ice'
                WHEN (sp.first + make_interval(months => %(n)s))::date > mo.asof THEN 'new'
                WHEN (sp.returned + make_interval(months => %(n)s))::date > mo.asof THEN 'won_back'
                ELSE 'regular' END AS state,
           CASE WHEN (sp.last + make_interval(months => %(w)s))::date <= mo.asof
                THEN date_trunc('month', sp.last + make_interval(months => %(w)s))::date END AS since
      FROM spans sp
      JOIN months mo ON mo.asof >= sp.last AND (sp.nxt IS NULL OR mo.asof < sp.nxt)
)"""

MONTH_SQL = STATES + """
INSERT INTO analytics_lifecyclemonth (tenant_id, created_at, updated_at, month, state, since, staff_id,
                                      department_id, count)
SELECT %(tenant)s, now(), now(), month, state, since, owner_id, department_id, count(*)
  FROM states
 WHERE month >= %(first)s
 GROUP BY month, state, since, owner_id, department_id
"""

FLOW_SQL = STATES + """,
moves AS (
    SELECT month, owner_id, department_id, state,
           CASE WHEN lag(month) OVER w = (month - interval '1 month')::date THEN lag(state) OVER w
                ELSE 'none' END AS from_state
      FROM states
    WINDOW w AS (PARTITION BY customer_id ORDER BY month)
)
INSERT INTO analytics_lifecycleflow (tenant_id, created_at, updated_at, month, from_state, to_state, staff_id,
                                     department_id, count)
SELECT %(tenant)s, now(), now(), month, from_state, state, owner_id, department_id, count(*)
  FROM moves
 WHERE month >= %(first)s
 GROUP BY month, from_state, state, owner_id, department_id
"""

COHORT_SQL = ACTIVITIES + """,
buyers AS (
    SELECT customer_id, owner_id, department_id, min(d) FILTER (WHERE purchase) AS delivered, max(d) AS last
      FROM seq
     GROUP BY customer_id, owner_id, department_id
)
INSERT INTO analytics_lifecyclecohort (tenant_id, created_at, updated_at, cohort, age, staff_id, department_id,
                                       count, serviced)
SELECT %(tenant)s, now(), now(), date_trunc('month', b.delivered)::date,
       ((extract(year FROM b.last) - extract(year FROM b.delivered)) * 12
        + extract(month FROM b.last) - extract(month FROM b.delivered))::int,
       b.owner_id, b.department_id, count(*),
       count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM customers_servicevisit v
            WHERE v.tenant_id = %(tenant)s AND v.customer_id = b.customer_id AND v.cancelled_at IS NULL
              AND v.opened_on > b.delivered AND v.opened_on <= %(today)s
              AND v.opened_on <= (b.delivered + make_interval(months => %(s)s))::date))
  FROM buyers b
 WHERE b.delivered IS NOT NULL
 GROUP BY 4, 5, 6, 7
"""


@dataclass
class Refreshed:
    first: date | None  # the first month recomputed (None: nothing to compute)
    last: date
    month_rows: int
    flow_rows: int
    cohort_rows: int


def _month(day: date) -> date:
    return day.replace(day=1)


def _earliest_activity(tenant: Tenant, customers: Q | None = None, changed: Q | None = None) -> date | None:
    dates = []
    for model, field in ((Purchase, "contract_on"), (ServiceVisit, "opened_on")):
        rows = model.objects.filter(tenant=tenant)
        if customers is not None:
            rows = rows.filter(customers)
        if changed is not None:
            rows = rows.filter(changed)
        found = rows.aggregate(first=Min(field))["first"]
        if found is not None:
            dates.append(found)
    return min(dates) if dates else None


def _dirty_from(tenant: Tenant, state: RollupState, windows: Windows, today: date, rebuild: bool) -> date | None:
    """The first month to recompute (None: every month from the first activity)."""
    if rebuild or state.lifecycle_mark is None or state.lifecycle_as_of is None \
            or state.lifecycle_windows != windows.key:
        return None
    mark = state.lifecycle_mark
    changed = Q(updated_at__gte=mark) | Q(created_at__gte=mark)
    candidates = [_month(min(state.lifecycle_as_of, today))]
    written = _earliest_activity(tenant, changed=changed)
    if written is not None:
        candidates.append(written)
    moved = Customer.objects.filter(tenant=tenant).filter(changed).values("pk")
    first_of_moved = _earliest_activity(tenant, customers=Q(customer__in=moved))
    if first_of_moved is not None:
        candidates.append(first_of_moved)
    return _month(min(candidates))


def lifecycle_rollups_refresh(*, tenant: Tenant, now: datetime | None = None, rebuild: bool = False) -> Refreshed:
    """Bring the tenant's retention rollup up to date (with rebuild: every month again). One transaction;
    concurrent runs of one tenant wait on its advisory lock."""
    now = now or timezone.now()
    today = tenant.today(now)
    windows = windows_for(tenant.pk)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, tenant.pk])
        state, _created = RollupState.objects.select_for_update().get_or_create(tenant=tenant)
        first = _dirty_from(tenant, state, windows, today, rebuild)
        if first is None:  # everything: from the first activity on
            LifecycleMonth.objects.filter(tenant=tenant).delete()
            LifecycleFlow.objects.filter(tenant=tenant).delete()
            earliest = _earliest_activity(tenant)
            first = _month(min(earliest, today)) if earliest is not None else None
        last = _month(today)
        month_rows = flow_rows = 0
        if first is not None:
            LifecycleMonth.objects.filter(tenant=tenant, month__gte=first).delete()
            LifecycleFlow.objects.filter(tenant=tenant, month__gte=first).delete()
            params = {"tenant": tenant.pk, "today": today, "w": windows.inactive, "wm": windows.thin_ice_after,
                      "n": windows.new, "from": shift_months(first, -1), "first": first, "last": last}
            cursor.execute(MONTH_SQL, params)
            month_rows = cursor.rowcount
            cursor.execute(FLOW_SQL, params)
            flow_rows = cursor.rowcount
        LifecycleCohort.objects.filter(tenant=tenant).delete()
        cursor.execute(COHORT_SQL, {"tenant": tenant.pk, "today": today, "s": windows.service})
        cohort_rows = cursor.rowcount
        state.lifecycle_mark = now - MARK_MARGIN
        state.lifecycle_refreshed_at = now
        state.lifecycle_as_of = today
        state.lifecycle_windows = windows.key
        state.save(update_fields=["lifecycle_mark", "lifecycle_refreshed_at", "lifecycle_as_of", "lifecycle_windows",
                                  "updated_at"])
    return Refreshed(first, last, month_rows, flow_rows, cohort_rows)
