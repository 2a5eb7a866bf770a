"""Generation of follow-ups from the tenant's active plans: one set-based INSERT … SELECT … ON CONFLICT DO
NOTHING per plan, so a second run, a duplicated message or a re-delivered task creates nothing more (the
`followup_once` constraint).

A plan's occasions are the dates its trigger gives (a purchase's contract date, a visit's work-order date,
this year's birthday, the day first or routine maintenance falls due, the day a customer lapses, the day of a
booked appointment or of one the customer missed). A
follow-up is due `offset_days` after its occasion, shows `shows_days_before` its due date and expires
`expires_days_after` it. A run creates the follow-ups that are showing today (in the tenant's time zone) and
not expired, so a new plan does not fill the queues with years of past occasions. Customers who withdrew
their marketing consent, or opted out of the plan's contact type, get none; merged (inactive) customers none.

Who gets it: the customer's owner (or, without one, their team's queue), a department's queue, or the
holders of a position in turn (round-robin over runs: the plan remembers whose turn is next).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import PositionAssignment
from customers.selectors.customers import filtered_customer_ids
from service.models import FollowUp, FollowUpPlan

Trigger = FollowUpPlan.Trigger

# the days (on the tenant's clock, %(tz)s) of appointments in one status; the range of starts reads the
# appointment_day index
APPOINTMENT_DAYS = """
        SELECT a.customer_id, a.vehicle_id, (a.starts_at AT TIME ZONE %(tz)s)::date AS occasion
        FROM service_appointment a
        WHERE a.tenant_id = %(tenant)s AND a.status = '{status}'
          AND a.starts_at >= %(lo)s::date::timestamp AT TIME ZONE %(tz)s
          AND a.starts_at < (%(hi)s::date + 1)::timestamp AT TIME ZONE %(tz)s"""

# (customer_id, vehicle_id, occasion) for each trigger, for occasions between %(lo)s and %(hi)s. Every
# statement reads one tenant (%(tenant)s) through an index that starts with the tenant.
OCCASIONS = {
    Trigger.PURCHASE: """
        SELECT p.customer_id, p.vehicle_id, p.contract_on AS occasion FROM customers_purchase p
        WHERE p.tenant_id = %(tenant)s AND p.contract_on BETWEEN %(lo)s AND %(hi)s
          AND p.cancelled_at IS NULL""",
    Trigger.SERVICE_VISIT: """
        SELECT v.customer_id, v.vehicle_id, v.opened_on AS occasion FROM customers_servicevisit v
        WHERE v.tenant_id = %(tenant)s AND v.opened_on BETWEEN %(lo)s AND %(hi)s
          AND v.cancelled_at IS NULL""",
    # months after the purchase, unless the vehicle has had its first maintenance already
    Trigger.FIRST_MAINTENANCE: """
        SELECT h.customer_id, h.id, (h.purchased_on + make_interval(months => %(months)s))::date AS occasion
        FROM customers_vehicle h
        WHERE h.tenant_id = %(tenant)s
          AND h.purchased_on BETWEEN (%(lo)s::date - make_interval(months => %(months)s))::date - 3
                                 AND (%(hi)s::date - make_interval(months => %(months)s))::date + 3
          AND NOT EXISTS (SELECT 1 FROM customers_servicevisit f WHERE f.tenant_id = %(tenant)s
                          AND f.customer_id = h.customer_id AND f.vehicle_id = h.id AND f.visit_type = 'first')""",
    # months after the vehicle's last service visit (a later visit moves the occasion)
    Trigger.ROUTINE_MAINTENANCE: """
        SELECT v.customer_id, v.vehicle_id, (v.opened_on + make_interval(months => %(months)s))::date AS occasion
        FROM customers_servicevisit v
        WHERE v.tenant_id = %(tenant)s AND v.vehicle_id IS NOT NULL
          AND v.opened_on BETWEEN (%(lo)s::date - make_interval(months => %(months)s))::date - 3
                              AND (%(hi)s::date - make_interval(months => %(months)s))::date + 3
          AND NOT EXISTS (SELECT 1 FROM customers_servicevisit w WHERE w.tenant_id = %(tenant)s
                          AND w.customer_id = v.customer_id AND w.vehicle_id = v.vehicle_id
                          AND (w.opened_on, w.id) > (v.opened_on, v.id))""",
    # this year's (or next year's) birthday; 29 February is kept on the 28th in other years. The birthdays
    # in the window are probed by month and day (the customer_birthday index), not by reading every customer
    Trigger.BIRTHDAY: """
        SELECT c.id, NULL::bigint, d.occasion FROM customers_customer c
        CROSS JOIN LATERAL (
            SELECT CASE WHEN extract(month FROM c.birthday) = 2 AND extract(day FROM c.birthday) = 29
                             AND NOT (y %% 4 = 0 AND (y %% 100 <> 0 OR y %% 400 = 0)) THEN make_date(y, 2, 28)
                        ELSE make_date(y, extract(month FROM c.birthday)::int, extract(day FROM c.birthday)::int)
                   END AS occasion
            FROM generate_series(extract(year FROM %(lo)s::date)::int, extract(year FROM %(hi)s::date)::int) AS y
        ) d
        WHERE c.tenant_id = %(tenant)s AND c.is_active AND c.birthday IS NOT NULL
          AND (EXTRACT(MONTH FROM c.birthday) * 100) + EXTRACT(DAY FROM c.birthday) = ANY(%(month_days)s)""",
    # months after the last visit or purchase (the customer's last_visit_on)
    Trigger.LAPSING: """
        SELECT c.id, NULL::bigint, (c.last_visit_on + make_interval(months => %(months)s))::date AS occasion
        FROM customers_customer c
        WHERE c.tenant_id = %(tenant)s AND c.is_active
          AND c.last_visit_on BETWEEN (%(lo)s::date - make_interval(months => %(months)s))::date - 3
                                  AND (%(hi)s::date - make_interval(months => %(months)s))::date + 3""",
    # the day of a booked appointment: the reminder (the seeded plan: the day before)
    Trigger.APPOINTMENT_REMINDER: APPOINTMENT_DAYS.format(status="booked"),
    # the day of an appointment the customer did not come to
    Trigger.NO_SHOW: APPOINTMENT_DAYS.format(status="no_show"),
    # a campaign: the customers its saved filter finds (read by filtered_customer_ids), on the campaign's day
    Trigger.CAMPAIGN: """
        SELECT c.id, NULL::bigint, %(campaign_on)s::date AS occasion
        FROM unnest(%(campaign_ids)s::bigint[]) AS c (id)""",
}

# Maintenance due by months or by km, whichever comes first. The km date is forecast from the vehicle's
# mileage: its latest reading against the purchase (first maintenance), or against the last service visit's
# reading (routine; the purchase when no later reading exists). A forecast moves as readings come in, so a
# vehicle gets one follow-up per plan (first maintenance) or per last visit (routine), whatever its occasion.
KM_OCCASIONS = {
    # the forecast first (OFFSET 0 keeps it a step of its own), so that only the vehicles whose occasion falls
    # in the window are looked up in the visits and the follow-ups, not every vehicle bought in the months
    Trigger.FIRST_MAINTENANCE: """
        SELECT k.customer_id, k.vehicle_id, k.occasion FROM (
            SELECT h.customer_id, h.id AS vehicle_id,
                   LEAST((h.purchased_on + make_interval(months => %(months)s))::date,
                         CASE WHEN r.km > 0 AND r.read_on > h.purchased_on
                              THEN h.purchased_on + ceil(%(km)s::numeric * (r.read_on - h.purchased_on) / r.km)::int
                         END) AS occasion
            FROM customers_vehicle h
            LEFT JOIN LATERAL (SELECT m.km, m.read_on FROM customers_mileagereading m
                               WHERE m.tenant_id = %(tenant)s AND m.vehicle_id = h.id
                               ORDER BY m.read_on DESC LIMIT 1) r ON true
            WHERE h.tenant_id = %(tenant)s
              AND h.purchased_on BETWEEN (%(lo)s::date - make_interval(months => %(months)s))::date - 3 AND %(hi)s
            OFFSET 0) k
        WHERE k.occasion BETWEEN %(lo)s AND %(hi)s
          AND NOT EXISTS (SELECT 1 FROM customers_servicevisit f WHERE f.tenant_id = %(tenant)s
                          AND f.customer_id = k.customer_id AND f.vehicle_id = k.vehicle_id AND f.visit_type = 'first')
          AND NOT EXISTS (SELECT 1 FROM service_followup d WHERE d.tenant_id = %(tenant)s AND d.plan_id = %(plan)s
                          AND d.customer_id = k.customer_id AND d.vehicle_id = k.vehicle_id)""",
    Trigger.ROUTINE_MAINTENANCE: """
        SELECT v.customer_id, v.vehicle_id,
               LEAST((v.opened_on + make_interval(months => %(months)s))::date,
                     CASE WHEN k.per_day > 0 THEN v.opened_on + ceil(%(km)s / k.per_day)::int END) AS occasion
        FROM customers_servicevisit v
        JOIN customers_vehicle h ON h.tenant_id = %(tenant)s AND h.id = v.vehicle_id
        LEFT JOIN LATERAL (SELECT m.km, m.read_on FROM customers_mileagereading m
                           WHERE m.tenant_id = %(tenant)s AND m.vehicle_id = v.vehicle_id
                           ORDER BY m.read_on DESC LIMIT 1) r ON true
        CROSS JOIN LATERAL (SELECT CASE
            WHEN r.read_on > v.opened_on AND r.km > v.mileage_km
                THEN (r.km - v.mileage_km)::numeric / (r.read_on - v.opened_on)
            WHEN v.mileage_km > 0 AND h.purchased_on < v.opened_on
                THEN v.mileage_km::numeric / (v.opened_on - h.purchased_on)
        END AS per_day) k
        WHERE v.tenant_id = %(tenant)s AND v.vehicle_id IS NOT NULL
          AND v.opened_on BETWEEN (%(lo)s::date - make_interval(months => %(months)s))::date - 3 AND %(hi)s
          AND NOT EXISTS (SELECT 1 FROM customers_servicevisit w WHERE w.tenant_id = %(tenant)s
                          AND w.customer_id = v.customer_id AND w.vehicle_id = v.vehicle_id
                          AND (w.opened_on, w.id) > (v.opened_on, v.id))
          AND NOT EXISTS (SELECT 1 FROM service_followup d WHERE d.tenant_id = %(tenant)s AND d.plan_id = %(plan)s
                          AND d.customer_id = v.customer_id AND d.vehicle_id = v.vehicle_id
                          AND d.occasion > v.opened_on)""",
}

GENERATE = """
    WITH occasions (customer_id, vehicle_id, occasion) AS ({occasions}),
    eligible AS (
        SELECT DISTINCT o.customer_id, o.vehicle_id, o.occasion, c.owner_id, c.department_id
        FROM occasions o
        JOIN customers_customer c ON c.id = o.customer_id AND c.tenant_id = %(tenant)s AND c.is_active
        WHERE o.occasion BETWEEN %(lo)s AND %(hi)s
          AND c.consent_withdrawn_at IS NULL
          AND (%(customers)s::bigint[] IS NULL OR o.customer_id = ANY(%(customers)s::bigint[]))
          AND NOT EXISTS (SELECT 1 FROM service_contactoptout x WHERE x.tenant_id = %(tenant)s
                          AND x.customer_id = o.customer_id AND x.contact_type = %(contact_type)s)
    ),
    candidates AS (  -- the new ones, numbered for round-robin (ON CONFLICT still guards concurrent runs)
        SELECT e.*, row_number() OVER (ORDER BY e.occasion, e.customer_id, e.vehicle_id) AS n
        FROM eligible e
        WHERE NOT EXISTS (SELECT 1 FROM service_followup f WHERE f.tenant_id = %(tenant)s AND f.plan_id = %(plan)s
                          AND f.customer_id = e.customer_id AND f.occasion = e.occasion
                          AND (f.vehicle_id = e.vehicle_id OR f.vehicle_id IS NULL AND e.vehicle_id IS NULL))
    ),
    created AS (
        INSERT INTO service_followup (tenant_id, created_at, updated_at, plan_id, customer_id, vehicle_id, occasion,
                                      due_on, visible_from, expires_on, assignee_id, department_id, priority,
                                      status, attempts)
        SELECT %(tenant)s, %(now)s, %(now)s, %(plan)s, customer_id, vehicle_id, occasion,
               occasion + %(offset)s, occasion + %(offset)s - %(before)s, occasion + %(offset)s + %(after)s,
               {assignee}, {department}, %(priority)s, 'open', 0
        FROM candidates
        ON CONFLICT DO NOTHING
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM eligible), (SELECT count(*) FROM created)"""

ASSIGN = {  # (assignee, department) of each follow-up
    FollowUpPlan.Assignment.OWNER: ("owner_id", "CASE WHEN owner_id IS NULL THEN department_id END"),
    FollowUpPlan.Assignment.QUEUE: ("NULL::bigint", "%(plan_department)s::bigint"),
    FollowUpPlan.Assignment.ROUND_ROBIN: (
        "(%(holders)s::bigint[])[1 + (n - 1 + %(turn)s) %% cardinality(%(holders)s::bigint[])]", "NULL::bigint"),
}


@dataclass
class Generated:
    created: int = 0
    existing: int = 0
    plans: dict[str, tuple[int, int]] = field(default_factory=dict)  # plan name → (created, existing)
    expired: int = 0


def followups_generate(tenant, *, now: datetime | None = None, customer_ids: list[int] | None = None) -> Generated:
    """Create the follow-ups the tenant's active plans call for today (in the tenant's time zone); with
    `customer_ids`, only theirs (after a purchase or a visit is recorded). Open follow-ups past their expiry
    become expired (full runs only). One transaction."""
    today = tenant.today(now)
    result = Generated()
    with transaction.atomic():
        for plan in (FollowUpPlan.objects.filter(is_active=True).exclude(trigger=Trigger.COMPLAINT)
                     .select_related("position").order_by("pk")):
            created, existing = _generate_plan(tenant, plan, today, customer_ids)
            result.plans[plan.name] = (created, existing)
            result.created += created
            result.existing += existing
        if customer_ids is None:
            result.expired = FollowUp.objects.filter(status=FollowUp.Status.OPEN, expires_on__lt=today).update(
                status=FollowUp.Status.EXPIRED, closed_at=timezone.now())
    return result


def _month_days(lo: date, hi: date) -> list[int]:
    """month × 100 + day of every day from lo to hi; 28 February brings 29 February along (kept on the 28th
    in other years)."""
    days = {d.month * 100 + d.day for d in (date.fromordinal(n) for n in range(lo.toordinal(), hi.toordinal() + 1))}
    if 228 in days:
        days.add(229)
    return sorted(days)


def _generate_plan(tenant, plan: FollowUpPlan, today: date, customer_ids) -> tuple[int, int]:
    # showing today and not expired: due_on - before <= today <= due_on + after
    lo = date.fromordinal(today.toordinal() - plan.offset_days - plan.expires_days_after)
    hi = date.fromordinal(today.toordinal() - plan.offset_days + plan.shows_days_before)
    params = {"tenant": tenant.pk, "lo": lo, "hi": hi, "months": plan.months or 0, "plan": plan.pk,
              "now": timezone.now(), "offset": plan.offset_days, "before": plan.shows_days_before,
              "after": plan.expires_days_after, "priority": plan.priority, "contact_type": plan.contact_type,
              "customers": customer_ids, "plan_department": plan.department_id, "holders": None, "turn": 0,
              "tz": tenant.timezone, "km": plan.km,
              "month_days": _month_days(lo, hi) if plan.trigger == Trigger.BIRTHDAY else None}
    if plan.assignment == FollowUpPlan.Assignment.ROUND_ROBIN:
        holders = list(PositionAssignment.objects.filter(position_id=plan.position_id, staff__is_active=True)
                       .order_by("staff_id").values_list("staff_id", flat=True))
        if not holders:  # nobody holds the position: the position's department queue gets them
            params["plan_department"] = plan.position.department_id
            assignee, department = ASSIGN[FollowUpPlan.Assignment.QUEUE]
        else:
            params["holders"], params["turn"] = holders, plan.round_robin_next % len(holders)
            assignee, department = ASSIGN[plan.assignment]
    else:
        assignee, department = ASSIGN[plan.assignment]
    if plan.trigger == Trigger.CAMPAIGN:
        if not lo <= plan.campaign_on <= hi:
            return 0, 0  # not showing yet, or over: the filter is not run
        params["campaign_on"], params["campaign_ids"] = plan.campaign_on, filtered_customer_ids(plan.customer_filter)
    occasions = KM_OCCASIONS[plan.trigger] if plan.km and plan.trigger in KM_OCCASIONS else OCCASIONS[plan.trigger]
    sql = GENERATE.format(occasions=occasions, assignee=assignee, department=department)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        eligible, created = cursor.fetchone()
    if plan.assignment == FollowUpPlan.Assignment.ROUND_ROBIN and created:
        FollowUpPlan.objects.filter(pk=plan.pk).update(round_robin_next=(plan.round_robin_next + created) % 1_000_000)
    return created, eligible - created
