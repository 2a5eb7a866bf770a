"""Writes of the dashboards' rollup (analytics.models.MeasureDay / MeasureMonth), refreshed set-based per tenant.

Each source below counts its raw rows per day (the company's time zone), staff member and department in one
`GROUP BY` built with the ORM — the same conditions the drill-down lists filter with (a complaint past its
deadline is `Complaint.past_deadline`, as on the complaint list) — and the counts are unpivoted into one row per
measure by `INSERT … SELECT … CROSS JOIN LATERAL (VALUES …)`.

Incremental fill: the tenant's RollupState keeps a mark, the moment (less a margin for transactions that were
still open) from which changed rows have not been read yet. A run recomputes, per source, the days from the
earliest day of a row changed since the mark (and of a complaint whose clock can still run out) to today; the
month rows of the months touched are summed again; the snapshot measures of today are replaced. A missed hour
is caught up by the next run (the mark has not moved), a second run recomputes the same days to the same rows.
Without a mark (the first run, or `rebuild`) every day from the source's first row is recomputed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import BigIntegerField, Count, DateField, F, Min, Q, QuerySet, Sum, Value
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone

from accounts.models import Tenant
from analytics.models import MeasureDay, MeasureMonth, RollupState
from analytics.models.dashboards import TAKEN
from club.models import Member
from customers.models import Lead
from service.models import Complaint, FollowUp, Severity

LOCK_NAMESPACE = 7_420_003  # pg_advisory_xact_lock(namespace, tenant id): one dashboard refresh per tenant at a time
MARK_MARGIN = timedelta(minutes=10)  # rows written by transactions still open when a run read are read again
RECENT_DAYS = 2  # always recomputed: changes written without touching updated_at (bulk updates) are caught


@dataclass(frozen=True)
class Source:
    """Raw rows counted on the day of `day_field`: `measures` maps each measure to its aggregate."""

    name: str
    queryset: callable  # (now) -> the rows, unfiltered by date
    day_field: str
    staff: str | None
    department: str | None
    measures: dict[str, callable] = field(default_factory=dict)  # measure -> (now) -> aggregate
    # rows whose figures may have changed since the mark (default: created or changed since)
    changed: callable = None  # (mark, now) -> Q
    # a row changed since the mark may have left the day it was counted on (a lead re-opened loses its closed
    # day): recompute from the day of this field of the changed rows instead
    moved_from: str | None = None


def _complaints(now):
    return Complaint.objects.all()


def _leads(now):
    return Lead.objects.all()


def _members(now):
    return Member.objects.all()


def _closed_in_time() -> Q:
    """Closed, and its resolution was not past its deadline: the clock watcher never noted a breach and it was
    resolved (or, closed without a resolution step, closed) by the resolution deadline."""
    return (Q(status=Complaint.Status.CLOSED, resolution_breached_at__isnull=True)
            & (Q(resolved_at__lte=F("resolution_due"))
               | Q(resolved_at__isnull=True, closed_at__lte=F("resolution_due"))))


def _written_since(mark, now) -> Q:
    return Q(updated_at__gte=mark) | Q(created_at__gte=mark)


def _clock_ran_out_since(mark, now) -> Q:
    """Written since the mark, or a running clock whose deadline passed since (past_deadline without a write)."""
    return (_written_since(mark, now)
            | Q(status__in=Complaint.RUNNING, resolution_due__gte=mark, resolution_due__lte=now)
            | Q(status=Complaint.Status.NEW, response_due__gte=mark, response_due__lte=now))


def _enrolled_since(mark, now) -> Q:
    """A member's enrolment day moves only when they enrol (again); points and levels change updated_at all day
    long and must not drag the refresh back to the first enrolment. (A re-enrolment leaves its old day counted
    until the night's full recompute.)"""
    return Q(created_at__gte=mark) | Q(enrolled_at__gte=mark)


EVENT_SOURCES = (
    Source("complaints", _complaints, "opened_at", "owner_id", "department_id", {
        "complaints_opened": lambda now: Count("id"),
        "complaints_major": lambda now: Count("id", filter=Q(severity=Severity.MAJOR)),
        "complaints_breached": lambda now: Count("id", filter=Complaint.past_deadline(now)),
    }, changed=_clock_ran_out_since),
    Source("leads_registered", _leads, "created_at", "consultant_id", "department_id", {
        "leads_registered": lambda now: Count("id"),
    }),
    # a person's scorecard (analytics.selectors.targets): closed in time, on the day it closed, by owner
    Source("complaints_closed", _complaints, "closed_at", "owner_id", "department_id", {
        "complaints_closed_in_time": lambda now: Count("id", filter=_closed_in_time()),
    }),  # a closed complaint stays closed (a dissatisfied customer reopens a resolved one): its day stays
    Source("leads_closed", _leads, "closed_at", "consultant_id", "department_id", {
        "leads_won": lambda now: Count("id", filter=Q(status=Lead.Status.WON)),
        "leads_lost": lambda now: Count("id", filter=Q(status=Lead.Status.LOST)),
    }, moved_from="created_at"),
    # by who enrolled them (a scorecard's figure); the dashboard's tile sums every row (Figure.scoped=False)
    Source("members", _members, "enrolled_at", "enrolled_by_id", None, {
        "members_enrolled": lambda now: Count("id"),
    }, changed=_enrolled_since),
)


def _snapshots(tenant: Tenant, today: date, now: datetime) -> list[tuple[str, QuerySet, str | None, str | None, dict]]:
    """(name, rows, staff, department, {measure: aggregate}) of the states counted at the refresh."""
    return [
        ("followups", FollowUp.objects.filter(status=FollowUp.Status.OPEN, retry_at__isnull=True, due_on__lt=today),
         "assignee_id", "department_id", {"followups_overdue": Count("id")}),
        ("complaints", Complaint.objects.filter(status__in=Complaint.UNRESOLVED), "owner_id", "department_id", {
            "complaints_unresolved": Count("id"),
            "complaints_major_unresolved": Count("id", filter=Q(severity=Severity.MAJOR)),
        }),
        ("members", Member.objects.filter(status=Member.Status.ACTIVE), None, None, {
            "members_active": Count("id"),
            "points_outstanding": Coalesce(Sum("points", filter=Q(points__gt=0)), 0),
        }),
    ]


EVENT_MEASURES = tuple(m for source in EVENT_SOURCES for m in source.measures)
SNAPSHOT_MEASURES = ("followups_overdue", "complaints_unresolved", "complaints_major_unresolved", "members_active",
                     "points_outstanding", TAKEN)
REBUILD_HOUR = 2  # the first run after 02:00 on the company's clock recomputes every day (what no mark catches)

INSERT_SQL = """
INSERT INTO {table} (tenant_id, created_at, updated_at, measure, day, staff_id, department_id, value)
SELECT %s, now(), now(), m.measure, q.day, q.staff_id, q.department_id, m.value
  FROM ({rows}) AS q(day, staff_id, department_id, {names})
 CROSS JOIN LATERAL (VALUES {pairs}) AS m(measure, value)
 WHERE m.value <> 0
"""

MONTH_SQL = """
INSERT INTO {month} (tenant_id, created_at, updated_at, measure, month, staff_id, department_id, value)
SELECT %(tenant)s, now(), now(), measure, date_trunc('month', day)::date, staff_id, department_id, sum(value)
  FROM {day}
 WHERE tenant_id = %(tenant)s AND measure = ANY(%(measures)s)
   AND day >= %(first)s AND day < (%(last)s::date + interval '1 month')::date
 GROUP BY 4, 5, 6, 7
"""


def _grouped_sql(rows: QuerySet, day, staff: str | None, department: str | None, aggregates: dict) -> tuple:
    """SQL of (day, staff, department, one column per measure) and its params; the measures' names."""
    names = list(aggregates)
    none = Cast(Value(None), output_field=BigIntegerField())  # a typed NULL: the insert's column is a bigint
    keys = {"d_day": day, "d_staff": F(staff) if staff else none, "d_department": F(department) if department else none}
    grouped = (rows.order_by().annotate(**keys).values("d_day", "d_staff", "d_department")
               .annotate(**{f"m_{i}": aggregate for i, aggregate in enumerate(aggregates.values())}))
    sql, params = grouped.query.sql_with_params()
    return sql, params, names


def _insert(cursor, tenant: Tenant, sql: str, params, names: list[str]) -> int:
    columns = ", ".join(f"m_{i}" for i in range(len(names)))
    pairs = ", ".join(f"('{name}', q.m_{i}::numeric)" for i, name in enumerate(names))
    cursor.execute(INSERT_SQL.format(table=MeasureDay._meta.db_table, rows=sql, names=columns, pairs=pairs),
                   [tenant.pk, *params])
    return cursor.rowcount


def _dirty_from(source: Source, tenant: Tenant, mark: datetime | None, now: datetime) -> date | None:
    """The earliest day of this source whose figures may have changed since the mark."""
    zone = ZoneInfo(tenant.timezone)
    rows = source.queryset(now).filter(**{f"{source.day_field}__isnull": False})
    if mark is not None:
        changed = (source.changed or _written_since)(mark, now)
        if source.moved_from:  # a lead re-opened lost its closed day: from the day it was registered
            return _earliest(source.queryset(now).filter(changed), source.moved_from, zone)
        rows = rows.filter(changed)
    return _earliest(rows, source.day_field, zone)


def _earliest(rows: QuerySet, day_field: str, zone) -> date | None:
    first = rows.aggregate(first=Min(day_field))["first"]
    return first.astimezone(zone).date() if first is not None else None


@dataclass
class Refreshed:
    days: dict[str, tuple[date, date]]
    rows: int


def dashboard_rollups_refresh(*, tenant: Tenant, now: datetime | None = None, rebuild: bool = False) -> Refreshed:
    """Bring the tenant's dashboard rollup up to date (or, with rebuild, recompute every day; so does the first run
    of each night). One transaction; concurrent runs of one tenant wait on its advisory lock (not on the state row,
    which the other rollups' refreshes write too)."""
    now = now or timezone.now()
    zone = ZoneInfo(tenant.timezone)
    today = tenant.today(now)
    recomputed, written = {}, 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, tenant.pk])
        state, _created = RollupState.objects.get_or_create(tenant=tenant)
        rebuilt = state.dashboard_rebuilt_at
        if not rebuild and tenant.local_time(now).hour >= REBUILD_HOUR and (
                rebuilt is None or tenant.today(rebuilt) < today):
            rebuild = True
        mark = None if rebuild else state.dashboard_mark
        if rebuild:  # every day again: rows of days no source has any more go too
            MeasureDay.objects.filter(tenant=tenant, measure__in=EVENT_MEASURES).delete()
            MeasureMonth.objects.filter(tenant=tenant).delete()
        first_month = None
        for source in EVENT_SOURCES:
            start = _dirty_from(source, tenant, mark, now)
            recent = today - timedelta(days=RECENT_DAYS)
            start = min(start, recent) if start is not None else (recent if mark is not None else None)
            if start is None:
                continue
            end = max(today, start)
            measures = list(source.measures)
            MeasureDay.objects.filter(tenant=tenant, measure__in=measures, day__range=(start, end)).delete()
            lo, hi = tenant.day_bounds(start)[0], tenant.day_bounds(end)[1]
            rows = source.queryset(now).filter(**{f"{source.day_field}__gte": lo, f"{source.day_field}__lt": hi})
            sql, params, names = _grouped_sql(rows, TruncDate(source.day_field, tzinfo=zone), source.staff,
                                              source.department,
                                              {name: make(now) for name, make in source.measures.items()})
            written += _insert(cursor, tenant, sql, params, names)
            recomputed[source.name] = (start, end)
            first_month = min(first_month or start, start).replace(day=1)
        MeasureDay.objects.filter(tenant=tenant, measure__in=SNAPSHOT_MEASURES, day=today).delete()
        for _name, rows, staff, department, aggregates in _snapshots(tenant, today, now):
            day = Value(today, output_field=DateField())
            sql, params, names = _grouped_sql(rows, day, staff, department, aggregates)
            written += _insert(cursor, tenant, sql, params, names)
        MeasureDay.objects.create(tenant=tenant, measure=TAKEN, day=today, value=1)
        if first_month is not None:
            last_month = today.replace(day=1)
            MeasureMonth.objects.filter(tenant=tenant, measure__in=EVENT_MEASURES,
                                        month__range=(first_month, last_month)).delete()
            cursor.execute(MONTH_SQL.format(month=MeasureMonth._meta.db_table, day=MeasureDay._meta.db_table),
                           {"tenant": tenant.pk, "measures": list(EVENT_MEASURES), "first": first_month,
                            "last": last_month})
        done = {"dashboard_mark": now - MARK_MARGIN, "dashboard_refreshed_at": now, "updated_at": timezone.now()}
        if rebuild:
            done["dashboard_rebuilt_at"] = now
        RollupState.objects.filter(pk=state.pk).update(**done)
    return Refreshed(recomputed, written)

