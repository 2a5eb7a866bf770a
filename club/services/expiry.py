"""Points expiry as a movement, set-based: the unspent part of every lot past its date becomes an "expire" entry
of its own (key "expire:<lot id>", source_id the lot's id; no LotDraw), and the member's balance goes down by it.

Points are valid *through* `lot.expires_on`: they expire on the next day of the tenant's clock, so a run with
`today` (default: the tenant's today) expires lots whose `expires_on < today`. Spent points are never touched:
only `remaining` expires.

One transaction per batch of members: their rows are locked first, in id order (as every movement of
club.services.points locks the member before its lots, so the two never deadlock, and a member's lots change only
under the member's lock: the lots need no lock of their own), then one statement inserts the entries (ON CONFLICT
DO NOTHING on the key), empties the lots and lowers the balances. A re-run
writes nothing (no open lot is past its date any more); a run killed halfway leaves whole batches done and the
next run does the rest.

Each batch announces its entries (crm.events club.points.expired) in its transaction: the statement returns their
ids, loaded in one query. When nobody listens in the tenant (crm.events.listening, asked once per run) the
statement returns no ids and nothing is loaded."""

from __future__ import annotations

from datetime import date

from django.db import connection, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from club.models import PointEntry
from crm.events import emit_many, listening

# the next batch of members with a lot past its date, after the last batch's highest id: walks the open lots'
# index (tenant, member, expires_on) in member order, so each batch reads only its own members' lots (choosing
# the batch among all due lots, sorted, cost every batch as much as the whole club)
_NEXT_MEMBERS = """
SELECT DISTINCT l.member_id FROM club_pointlot l
WHERE l.tenant_id = %(tenant)s AND l.remaining > 0 AND l.expires_on < %(today)s AND l.member_id > %(after)s
ORDER BY l.member_id LIMIT %(batch)s
"""

# then their rows, locked in id order, found by primary key (a join with the batch's ids let the planner scan the
# whole member table for each batch)
_LOCK_MEMBERS = """
SELECT m.id FROM club_member m WHERE m.tenant_id = %(tenant)s AND m.id = ANY(%(members)s) ORDER BY m.id FOR UPDATE
"""

# the yearly expiry writes no LotDraw: its entry names its lot twice (key "expire:<lot id>", source "expiry" with
# source_id the lot's id), which is all a reader needs (points_return asks whether a lot was expired by a run), and
# a draw per expired lot cost as much again as the entry itself (an expiry is one entry per lot, never split)
_EXPIRE = """
WITH due AS (
    SELECT l.id, l.member_id, l.remaining, l.expires_on FROM club_pointlot l
    WHERE l.tenant_id = %(tenant)s AND l.member_id = ANY(%(members)s) AND l.remaining > 0
      AND l.expires_on < %(today)s
), entries AS (
    INSERT INTO club_pointentry (tenant_id, created_at, updated_at, member_id, kind, points, qualifying, spend,
                                 reason, source, source_id, "key", card_id, created_by_id, actor, approved_by_id,
                                 reverses_id, occurred_at)
    SELECT %(tenant)s, now(), now(), due.member_id, 'expire', -due.remaining, 0, 0,
           %(reason)s || ' ' || to_char(due.expires_on, 'YYYY-MM-DD'), 'expiry', due.id, 'expire:' || due.id, NULL,
           NULL, %(actor)s, NULL, NULL, now()
    FROM due
    ON CONFLICT (tenant_id, "key") WHERE "key" <> '' DO NOTHING
    RETURNING id, member_id, points, source_id
), lots AS (
    UPDATE club_pointlot l SET remaining = l.remaining + e.points, updated_at = now()
    FROM entries e
    WHERE l.tenant_id = %(tenant)s AND l.member_id = ANY(%(members)s) AND l.id = e.source_id
    RETURNING l.id
), members AS (
    UPDATE club_member m SET points = m.points + s.points, updated_at = now()
    FROM (SELECT member_id, sum(points) AS points FROM entries GROUP BY member_id) s
    WHERE m.tenant_id = %(tenant)s AND m.id = ANY(%(members)s) AND m.id = s.member_id
    RETURNING m.id
)
SELECT (SELECT count(*) FROM entries), (SELECT count(*) FROM lots), (SELECT count(*) FROM members)
"""
# the same, with the ids of the entries written (to announce them)
_EXPIRE_IDS = _EXPIRE.rstrip() + ", (SELECT array_agg(id) FROM entries)\n"


def points_expire(*, tenant, today: date | None = None, batch_size: int = 5000) -> int:
    """Expire the unspent part of every lot of `tenant` whose validity ended before `today` (the tenant's today by
    default). Returns how many lots expired (0 on a re-run)."""
    today = today or tenant.today()
    with translation.override(tenant.default_language):
        reason = _("Points expired, valid through")
        actor = _("points expiry")
    params = {"tenant": tenant.pk, "today": today, "batch": batch_size, "reason": reason, "actor": actor}
    announce = listening(tenant.pk, "club.points.expired")  # once per run: nobody hears it, no ids are loaded
    expired, after = 0, 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_NEXT_MEMBERS, params | {"after": after})
            members = [row[0] for row in cursor.fetchall()]
            if not members:
                return expired
            cursor.execute(_LOCK_MEMBERS, params | {"members": members})
            cursor.execute(_EXPIRE_IDS if announce else _EXPIRE, params | {"members": members})
            row = cursor.fetchone()
            expired += row[0]
            if announce and row[3]:
                emit_many("club.points.expired",
                          PointEntry.objects.filter(tenant_id=tenant.pk, pk__in=row[3]).order_by("pk"))
            after = members[-1]
