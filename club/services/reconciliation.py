"""The nightly reconciliation of the points ledger: for every member of a tenant, the cached balances against the
journal's sums and the open lots (club/models/points.py states the invariants). One `Reconciliation` row per
tenant and day (a second run the same day updates it) with the differences, the first 1,000 listed."""

from __future__ import annotations

import logging
from datetime import date

from django.db import connection, transaction
from django.utils import timezone

from club.models import Reconciliation

logger = logging.getLogger(__name__)

DETAILS_LIMIT = 1000

_DIFFERENCES = """
WITH journal AS (
    SELECT member_id, sum(points) AS points, sum(qualifying) AS qualifying FROM club_pointentry
    WHERE tenant_id = %(tenant)s GROUP BY member_id
), lots AS (
    SELECT member_id, sum(remaining) AS remaining FROM club_pointlot
    WHERE tenant_id = %(tenant)s AND remaining > 0 GROUP BY member_id
), checked AS (
    SELECT m.id, m.points, m.qualifying, coalesce(j.points, 0) AS journal, coalesce(j.qualifying, 0) AS journal_q,
           coalesce(l.remaining, 0) AS lots
    FROM club_member m
    LEFT JOIN journal j ON j.member_id = m.id
    LEFT JOIN lots l ON l.member_id = m.id
    WHERE m.tenant_id = %(tenant)s
)
SELECT (SELECT count(*) FROM checked), d.*
FROM (SELECT 1) one
LEFT JOIN LATERAL (
    SELECT id, points, journal, lots, qualifying, journal_q, count(*) OVER () AS differences FROM checked
    WHERE points <> journal OR qualifying <> journal_q OR greatest(points, 0) <> lots
    ORDER BY id LIMIT %(limit)s
) d ON true
"""


def points_reconcile(*, tenant, day: date | None = None) -> Reconciliation:
    """Check every member of `tenant` and record the result for `day` (the tenant's today by default)."""
    day = day or tenant.today()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_DIFFERENCES, {"tenant": tenant.pk, "limit": DETAILS_LIMIT})
        rows = cursor.fetchall()
        checked = rows[0][0] if rows else 0
        # sums of 64-bit points come back as numeric (Decimal); they are whole numbers
        details = [{"member": row[1], "points": int(row[2]), "journal": int(row[3]), "lots": int(row[4]),
                    "qualifying": int(row[5]), "journal_qualifying": int(row[6])} for row in rows if row[1] is not None]
        differences = rows[0][7] if details else 0
        reconciliation, _ = Reconciliation.objects.update_or_create(
            tenant=tenant, day=day, defaults={"members_checked": checked, "differences": differences,
                                              "details": details, "finished_at": timezone.now()})
    if differences:  # for the operators' alerting; the club manager sees it on the adjustments page
        logger.error("club points reconciliation of tenant %s on %s: %s members differ (first: %s)",
                     tenant.pk, day, differences, details[:3])
    return reconciliation
