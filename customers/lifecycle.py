"""Customer lifecycle (客户生命周期) rules, in one place for the customer list's filters (customers.filters) and the
retention rollup (analytics.services.lifecycle_rollups), which apply the same rules in SQL.

A customer's activities are their purchases (contract date) and service visits (work-order date), cancelled and
refunded ones left out. On a day d, with L their last activity on or before d, F their first and the tenant's
windows (customers.models.LifecycleSettings: W inactivity months, M thin-ice months, N new months):

- no activity on or before d: not (yet) a customer — no state;
- lapsed (流失): L + W months <= d (no activity in the W months up to d; the lapse day is L + W months);
- thin ice: L + (W − M) months <= d, not lapsed;
- new: F + N months > d;
- won back: R + N months > d, where R is their latest return — an activity coming W months or more after the one
  before it (they had lapsed before it);
- regular: every other active customer.

Active = any state but lapsed. "n months after a day" is calendar months, the last day of a shorter month when the
day does not exist (31 January + 1 month = 28/29 February), as PostgreSQL's `date + interval 'n months'`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Exists, OuterRef, Q

NEW, REGULAR, THIN_ICE, LAPSED, WON_BACK, NONE = "new", "regular", "thin_ice", "lapsed", "won_back", "none"
ACTIVE_STATES = (NEW, REGULAR, THIN_ICE, WON_BACK)
STATES = (NEW, REGULAR, WON_BACK, THIN_ICE, LAPSED)


@dataclass(frozen=True)
class Windows:
    inactive: int = 12
    thin_ice: int = 2
    new: int = 3
    service: int = 14

    @property
    def thin_ice_after(self) -> int:
        """Months without activity after which a customer is on thin ice."""
        return self.inactive - self.thin_ice

    @property
    def key(self) -> str:
        return f"{self.inactive}/{self.thin_ice}/{self.new}/{self.service}"

    @classmethod
    def from_key(cls, key: str) -> Windows | None:
        """The windows a rollup was computed with (`key`), or None for an empty or unreadable key."""
        try:
            return cls(*(int(part) for part in key.split("/")))
        except (TypeError, ValueError):
            return None


def windows_for(tenant_id: int) -> Windows:
    """The tenant's windows (the defaults without settings). One query."""
    from customers.models import LifecycleSettings

    row = LifecycleSettings.objects.filter(tenant_id=tenant_id).values_list(
        "inactivity_months", "thin_ice_months", "new_months", "service_retention_months").first()
    return Windows(*row) if row else Windows()


def shift_months(day: date, months: int) -> date:
    """The same day `months` later (earlier when negative), or the last day of a shorter month."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    first = date(year, month + 1, 1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return min(first + timedelta(days=day.day - 1), last)


def latest_with(months: int, day: date) -> date:
    """The latest date L with L + months <= day (L + months grows with L, so every earlier date has it too)."""
    candidate = shift_months(day, -months)
    while shift_months(candidate + timedelta(days=1), months) <= day:
        candidate += timedelta(days=1)
    while shift_months(candidate, months) > day:
        candidate -= timedelta(days=1)
    return candidate


def thin_ice_q(windows: Windows, today: date, *, field: str = "last_visit_on") -> Q:
    """Customers on thin ice today, by their last activity (the customer's last_visit_on)."""
    return Q(**{f"{field}__gt": latest_with(windows.inactive, today),
                f"{field}__lte": latest_with(windows.thin_ice_after, today)})


def lapsed_q(windows: Windows, today: date, *, field: str = "last_visit_on") -> Q:
    return Q(**{f"{field}__lte": latest_with(windows.inactive, today)})


def active_q(windows: Windows, today: date, *, field: str = "last_visit_on") -> Q:
    return Q(**{f"{field}__gt": latest_with(windows.inactive, today)})


def lapsed_between_q(windows: Windows, start: date | None, end: date | None, today: date, *,
                     field: str = "last_visit_on") -> Q:
    """Customers lapsed today whose lapse day (last activity + W months) falls from start to end."""
    end = min(end, today) if end else today
    condition = Q(**{f"{field}__lte": latest_with(windows.inactive, end)})
    if start is not None:
        condition &= Q(**{f"{field}__gt": latest_with(windows.inactive, start - timedelta(days=1))})
    return condition


def _activities(lo: date | None, hi: date | None):
    from customers.models import Purchase, ServiceVisit

    purchases = Purchase.objects.filter(customer=OuterRef("pk"), cancelled_at__isnull=True)
    visits = ServiceVisit.objects.filter(customer=OuterRef("pk"), cancelled_at__isnull=True)
    if lo is not None:
        purchases, visits = purchases.filter(contract_on__gte=lo), visits.filter(opened_on__gte=lo)
    if hi is not None:
        purchases, visits = purchases.filter(contract_on__lte=hi), visits.filter(opened_on__lte=hi)
    return Exists(purchases) | Exists(visits)


def active_on_q(windows: Windows, day: date) -> Q:
    """Customers active on a past day: an activity on or before it, less than W months before it."""
    return Q(_activities(latest_with(windows.inactive, day) + timedelta(days=1), day))


def first_activity_between_q(start: date | None, end: date | None) -> Q:
    """Customers whose first activity falls from start to end (none before start)."""
    condition = Q(_activities(start, end))
    if start is not None:
        condition &= ~Q(_activities(None, start - timedelta(days=1)))
    return condition


# Every customer's state on a day, set-based over the tenant's activities (the rules above, as the retention
# rollup applies them: analytics.services.lifecycle_rollups). Rows (customer_id, state) of the customers with an
# activity on or before the day; a customer without one has no state ("none"). Uncorrelated, so it can stand in
# any query as `pk IN (…)` whatever alias the customer table has there.
def states_sql(among: str = "") -> str:
    """STATES_SQL, its activities kept to the customers of the table `among` (a CTE's name, its column `id`: the
    customer ids, each once) when given: a segment's profile computes only its own customers' states."""
    join_p = f"JOIN {among} ON {among}.id = p.customer_id" if among else ""
    join_v = f"JOIN {among} ON {among}.id = v.customer_id" if among else ""
    return f"""
SELECT customer_id, CASE
         WHEN (last + make_interval(months => %(w)s))::date <= %(today)s THEN 'lapsed'
         WHEN (last + make_interval(months => %(wm)s))::date <= %(today)s THEN 'thin_ice'
         WHEN (first + make_interval(months => %(n)s))::date > %(today)s THEN 'new'
         WHEN (returned + make_interval(months => %(n)s))::date > %(today)s THEN 'won_back'
         ELSE 'regular' END AS state
  FROM (SELECT customer_id, max(d) AS last, min(d) AS first,
               max(CASE WHEN prev IS NOT NULL AND (prev + make_interval(months => %(w)s))::date <= d THEN d END)
                   AS returned
          FROM (SELECT customer_id, d, lag(d) OVER (PARTITION BY customer_id ORDER BY d) AS prev
                  FROM (SELECT p.customer_id, p.contract_on AS d FROM customers_purchase p {join_p}
                         WHERE p.tenant_id = %(tenant)s AND p.cancelled_at IS NULL AND p.contract_on <= %(today)s
                        UNION ALL
                        SELECT v.customer_id, v.opened_on FROM customers_servicevisit v {join_v}
                         WHERE v.tenant_id = %(tenant)s AND v.cancelled_at IS NULL AND v.opened_on <= %(today)s
                       ) AS activity
               ) AS sequence
         GROUP BY customer_id) AS spans"""


STATES_SQL = states_sql()


def states_params(windows: Windows, today: date, tenant_id: int) -> dict:
    return {"w": windows.inactive, "wm": windows.thin_ice_after, "n": windows.new, "today": today,
            "tenant": tenant_id}


def in_states_q(windows: Windows, today: date, tenant_id: int, states) -> Q:
    """Customers in any of these states today (new, regular, won back, thin ice, lapsed)."""
    from django.db.models.expressions import RawSQL

    named = {**states_params(windows, today, tenant_id), "states": list(states)}
    sql = f"SELECT customer_id FROM ({STATES_SQL}) AS s WHERE state = ANY(%(states)s)"
    return Q(pk__in=RawSQL(*positional(sql, named)))  # RawSQL takes positional parameters


def positional(sql: str, named: dict) -> tuple[str, list]:
    """SQL with named parameters (`%(name)s`) as positional ones (`%s`) and their values in order."""
    order = re.findall(r"%\((\w+)\)s", sql)
    return re.sub(r"%\(\w+\)s", "%s", sql), [named[name] for name in order]
