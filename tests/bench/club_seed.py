"""The club benchmark's data: N members of the demo tenant (its first N customers without a membership), each
with a card and ENTRIES journal entries — earnings with their lots, redemptions of rewards with the lot draws
they made — written by COPY (crm.bulk) in chunks, as the demo customers are (crm/demo/customers.py).

The rows keep the ledger's invariants, so that the reconciliation, the member page and the expiry see what the
services would have written: each member's `points` is the sum of their entries and of their open lots'
`remaining`, `qualifying` the sum of the entries' qualifying points, every redemption drew from the
soonest-expiring lots still valid on its day (the draws say which) and its reward row exists. The programme
validity is "the end of the next year": the entries span the last three calendar years, so the lots earned
two years ago are past their date with their unspent part still open — the backlog a yearly expiry run meets.

Everything happens in one transaction; for a large load the secondary indexes of the club tables are dropped
first and rebuilt after (their exact definitions), and the foreign-key checks are skipped where the role may
(every reference is correct by construction)."""

from __future__ import annotations

import queue
import random
import threading
import time
from datetime import date, datetime

from django.db import connection, transaction

from club.models import Card, LotDraw, Member, PointEntry, PointLot, Programme, Redemption, Reward
from crm.bulk import (
    advance_sequence,
    bulk_history,
    copy_rows,
    deferred_foreign_keys,
    lock_tables,
    next_id,
    secondary_indexes,
    skip_foreign_key_checks,
)

ENTRIES = 20  # journal entries per member
CHUNK = 10_000  # members per COPY
DROP_INDEXES_FROM = 50_000  # members to load before dropping and rebuilding the secondary indexes

LEVELS = [("普卡", 0, 0), ("银卡", 5_000, 4_000), ("金卡", 20_000, 15_000), ("钻石卡", 60_000, 45_000)]
REWARDS = [("洗车券", 300), ("车载香薰", 800), ("保养券", 1_500), ("机油套装", 3_000), ("儿童安全座椅", 8_000)]

LOAD = [
    (Member, ["id", "tenant", "created_at", "updated_at", "customer", "level", "status", "enrolled_at",
              "enrolled_by", "consent_at", "consent_note", "points", "qualifying", "level_since", "review_on",
              "cancelled_at", "cancel_reason"]),
    (Card, ["id", "tenant", "created_at", "updated_at", "member", "number", "status", "issued_at", "issued_by",
            "lost_at", "replaced_by"]),
    (PointEntry, ["id", "tenant", "created_at", "updated_at", "member", "kind", "points", "qualifying", "spend",
                  "reason", "source", "source_id", "key", "card", "created_by", "actor", "approved_by", "reverses",
                  "occurred_at"]),
    (PointLot, ["id", "tenant", "created_at", "updated_at", "member", "entry", "points", "remaining", "earned_on",
                "expires_on"]),
    (LotDraw, ["id", "tenant", "created_at", "updated_at", "entry", "lot", "points"]),
    (Redemption, ["id", "tenant", "created_at", "updated_at", "member", "reward", "quantity", "points", "status",
                  "entry", "created_by", "fulfilled_at", "fulfilled_by", "cancelled_at"]),
]
MODELS_LOADED = [model for model, _fields in LOAD]
N = r"\N"


def demo_tenant():
    from accounts.models import Tenant

    return Tenant.objects.get(slug="demo")


def prepare_programme(tenant) -> tuple[Programme, list, list]:
    """The programme (validity: the end of the next year), four levels and a reward catalogue."""
    from club.selectors.access import programme_of

    programme = programme_of(tenant)
    Programme.objects.filter(pk=programme.pk).update(validity=Programme.Validity.NEXT_YEAR)
    programme.refresh_from_db()
    from club.models import Level

    for name, entry, keep in LEVELS:
        if not Level.objects.filter(tenant=tenant, name=name).exists():
            rank = (Level.objects.filter(tenant=tenant).order_by("-rank").values_list("rank", flat=True).first())
            Level.objects.create(tenant=tenant, name=name, rank=0 if rank is None else rank + 1,
                                 entry_threshold=entry, keep_threshold=keep)
    levels = list(Level.objects.filter(tenant=tenant).order_by("entry_threshold", "rank")
                  .values_list("pk", "entry_threshold"))
    rewards = []
    for name, price in REWARDS:
        reward, _made = Reward.objects.get_or_create(tenant=tenant, name=name, defaults={"points_price": price})
        rewards.append((reward.pk, reward.name, reward.points_price))
    return programme, levels, rewards


def seed_members(n: int, *, entries: int = ENTRIES, stdout=None, chunk_size: int = CHUNK) -> dict:
    """Top the demo tenant up to n members with `entries` journal entries each. Returns the counts written and
    the seconds it took."""
    from django_scopes import scope

    tenant = demo_tenant()
    started = time.monotonic()
    with scope(tenant=tenant):
        existing = Member.objects.count()
        missing = n - existing
        if missing <= 0:
            return {"members": 0, "entries": 0, "lots": 0, "draws": 0, "redemptions": 0, "seconds": 0.0,
                    "total_members": existing, "customers_short": 0}
        programme, levels, rewards = prepare_programme(tenant)
        with transaction.atomic():
            with connection.cursor() as cursor:
                bulk_history(cursor)
                lock_tables(cursor, [*MODELS_LOADED, Programme])
                cursor.execute(
                    "SELECT c.id FROM customers_customer c WHERE c.tenant_id = %s AND NOT EXISTS "
                    "(SELECT 1 FROM club_member m WHERE m.customer_id = c.id) ORDER BY c.id LIMIT %s",
                    [tenant.pk, missing])
                customers = [pk for (pk,) in cursor.fetchall()]
                fast = skip_foreign_key_checks(cursor, MODELS_LOADED)
                deferred = [] if fast else deferred_foreign_keys(cursor, MODELS_LOADED)
                if deferred:
                    cursor.execute(f"SET CONSTRAINTS {', '.join(deferred)} IMMEDIATE")
                rebuild = []
                if len(customers) >= DROP_INDEXES_FROM and len(customers) >= existing:
                    rebuild = secondary_indexes(cursor, MODELS_LOADED)
                    for name, _definition in rebuild:
                        cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
                first_ids = {model: next_id(cursor, model) for model in MODELS_LOADED}
                card_next = Programme.objects.get(pk=programme.pk).card_next
            plan = _Plan(tenant, programme, levels, rewards, dict(first_ids), card_next, entries)
            counts = _load(plan, customers, chunk_size, stdout, started)
            with connection.cursor() as cursor:
                for model in MODELS_LOADED:
                    advance_sequence(cursor, model, first_ids[model], plan.ids[model])
                Programme.objects.filter(pk=programme.pk).update(card_next=plan.card_next)
                if rebuild:
                    _say(stdout, f"club seed: rebuilding {len(rebuild)} indexes")
                    t0 = time.monotonic()
                    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
                    for _name, definition in rebuild:
                        cursor.execute(definition)
                    _say(stdout, f"club seed: indexes rebuilt in {time.monotonic() - t0:.0f} s")
                for model in MODELS_LOADED:
                    cursor.execute(f"ANALYZE {model._meta.db_table}")
    counts.update(seconds=time.monotonic() - started, total_members=existing + counts["members"],
                  customers_short=missing - len(customers))
    return counts


def _say(stdout, text):
    if stdout is not None:
        stdout.write(text + "\n")
        stdout.flush()


def _load(plan, customers, chunk_size, stdout, started) -> dict:
    """Build chunk k+1 here while a second thread COPYs chunk k on the same connection (crm/demo/customers.py)."""
    raw = connection.connection
    chunks: queue.Queue = queue.Queue(maxsize=1)
    failure: list[BaseException] = []
    done = [0]

    def write():
        item = ()
        try:
            with raw.cursor() as cursor:
                while (item := chunks.get()) is not None:
                    count, buffers = item
                    for (model, fields), text in zip(LOAD, buffers, strict=True):
                        copy_rows(cursor, model, fields, text)
                    done[0] += count
                    rate = done[0] / max(time.monotonic() - started, 1e-9)
                    _say(stdout, f"club seed: {done[0]:,}/{len(customers):,} members ({rate:,.0f}/s)")
        except BaseException as error:  # handed to the generating thread
            failure.append(error)
        finally:
            while item is not None:
                item = chunks.get()

    writer = threading.Thread(target=write, name="club-copy", daemon=True)
    writer.start()
    try:
        for start in range(0, len(customers), chunk_size):
            if failure:
                break
            part = customers[start:start + chunk_size]
            chunks.put((len(part), plan.chunk(part)))
    finally:
        chunks.put(None)
        writer.join()
    if failure:
        raise failure[0]
    return dict(plan.counts)


class _Plan:
    def __init__(self, tenant, programme, levels, rewards, ids, card_next, entries):
        self.tenant = str(tenant.pk)
        self.prefix, self.digits = programme.card_prefix, programme.card_digits
        self.card_next = card_next
        self.levels = levels  # (pk, entry threshold), ascending
        self.rewards = sorted(rewards, key=lambda r: r[2])  # (pk, name, price), cheapest first
        self.ids = ids
        self.entries = entries
        zone = tenant.zone
        now = datetime.now(zone)
        self.today = now.date()
        offset = int(now.utcoffset().total_seconds() // 60)
        self.zone = f"{'+' if offset >= 0 else '-'}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
        self.first_day = date(self.today.year - 2, 1, 1).toordinal()
        self.days = self.today.toordinal() - self.first_day  # entries on [1 Jan two years ago, yesterday]
        self.counts = {"members": 0, "entries": 0, "lots": 0, "draws": 0, "redemptions": 0}

    def chunk(self, customers: list[int]) -> list[str]:  # noqa: C901 - one long loop on purpose: it runs N times
        rng = random.Random(f"club:{customers[0]}")
        rnd = rng.random
        t = self.tenant
        ids = self.ids
        member_id, card_id, entry_id = ids[Member], ids[Card], ids[PointEntry]
        lot_id, draw_id, redemption_id = ids[PointLot], ids[LotDraw], ids[Redemption]
        rewards, cheapest = self.rewards, self.rewards[0][2]
        first_day, span, zone, n_entries = self.first_day, self.days, self.zone, self.entries
        levels = self.levels
        members, cards, journal, lots, draws, redemptions = [], [], [], [], [], []
        counts = self.counts
        for customer in customers:
            days = sorted(first_day + int(rnd() * span) for _ in range(n_entries))
            enrolled = f"{date.fromordinal(days[0] - int(rnd() * 30)).isoformat()} 10:{int(rnd() * 60):02d}:00{zone}"
            mid, cid = member_id, card_id
            member_id += 1
            card_id += 1
            number = f"{self.prefix}{self.card_next:0{self.digits}d}"
            self.card_next += 1
            balance = qualifying = 0
            open_lots = []  # [expires ordinal, lot id, remaining, row head, row tail] of this member, also in `lots`
            for i, day in enumerate(days):
                stamp = f"{date.fromordinal(day).isoformat()} {9 + int(rnd() * 9):02d}:{int(rnd() * 60):02d}:" \
                        f"{int(rnd() * 60):02d}{zone}"
                valid = [lot for lot in open_lots if lot[0] >= day]
                available = sum(lot[2] for lot in valid)
                eid = entry_id
                entry_id += 1
                if i > 0 and available >= cheapest and rnd() < 0.3:
                    affordable = [r for r in rewards if r[2] <= available]
                    reward_pk, reward_name, price = affordable[int(rnd() * len(affordable))]
                    rid = redemption_id
                    redemption_id += 1
                    journal.append(f"{eid}\t{t}\t{stamp}\t{stamp}\t{mid}\tredeem\t{-price}\t0\t0.00\t兑换 {reward_name}"
                                   f"\treward\t{rid}\tredemption:{rid}\t{cid}\t{N}\t\t{N}\t{N}\t{stamp}\n")
                    redemptions.append(f"{rid}\t{t}\t{stamp}\t{stamp}\t{mid}\t{reward_pk}\t1\t{price}\tfulfilled"
                                       f"\t{eid}\t{N}\t{stamp}\t{N}\t{N}\n")
                    valid.sort()
                    need = price
                    for lot in valid:
                        take = min(need, lot[2])
                        lot[2] -= take
                        need -= take
                        draws.append(f"{draw_id}\t{t}\t{stamp}\t{stamp}\t{eid}\t{lot[1]}\t{take}\n")
                        draw_id += 1
                        if not need:
                            break
                    balance -= price
                    open_lots = [lot for lot in open_lots if lot[2] > 0]
                    counts["redemptions"] += 1
                else:
                    u = rnd()
                    if u < 0.85:
                        spend = 300 + int(rnd() * 300) * 10
                        points, source, reason = spend, "visit", "保养到店积分"
                    elif u < 0.95:
                        spend, points, source, reason = 0, 200, "activity", "活动签到积分"
                    else:
                        spend = 100_000 + int(rnd() * 200) * 1_000
                        points, source, reason = spend // 20, "purchase", "购车积分"
                    expires = date(date.fromordinal(day).year + 1, 12, 31)
                    journal.append(f"{eid}\t{t}\t{stamp}\t{stamp}\t{mid}\tearn\t{points}\t{points}\t{spend}.00"
                                   f"\t{reason}\t{source}\t{N}\tbench:{eid}\t{cid}\t{N}\t{source} earning\t{N}"
                                   f"\t{N}\t{stamp}\n")
                    lot = [expires.toordinal(), lot_id, points,
                           f"{lot_id}\t{t}\t{stamp}\t{stamp}\t{mid}\t{eid}\t{points}\t",
                           f"\t{date.fromordinal(day).isoformat()}\t{expires.isoformat()}\n"]
                    open_lots.append(lot)
                    lots.append(lot)
                    lot_id += 1
                    balance += points
                    qualifying += points
            level = levels[0][0]
            for pk, threshold in levels:
                if qualifying >= threshold:
                    level = pk
            enrolled_day = date.fromisoformat(enrolled[:10])
            review = enrolled_day.replace(year=self.today.year) if (enrolled_day.month, enrolled_day.day) != (2, 29) \
                else date(self.today.year, 2, 28)
            if review <= self.today:
                review = review.replace(year=review.year + 1) if (review.month, review.day) != (2, 29) \
                    else date(review.year + 1, 2, 28)
            members.append(f"{mid}\t{t}\t{enrolled}\t{stamp}\t{customer}\t{level}\tactive\t{enrolled}\t{N}"
                           f"\t{enrolled}\t签字 signed form\t{balance}\t{qualifying}\t{enrolled[:10]}"
                           f"\t{review.isoformat()}\t{N}\t\n")
            cards.append(f"{cid}\t{t}\t{enrolled}\t{enrolled}\t{mid}\t{number}\tactive\t{enrolled}\t{N}\t{N}\t{N}\n")
            counts["members"] += 1
        counts["entries"] += entry_id - ids[PointEntry]
        counts["lots"] += lot_id - ids[PointLot]
        counts["draws"] += draw_id - ids[LotDraw]
        ids[Member], ids[Card], ids[PointEntry] = member_id, card_id, entry_id
        ids[PointLot], ids[LotDraw], ids[Redemption] = lot_id, draw_id, redemption_id
        lot_text = "".join(f"{lot[3]}{lot[2]}{lot[4]}" for lot in lots)
        return ["".join(members), "".join(cards), "".join(journal), lot_text, "".join(draws), "".join(redemptions)]


def check_ledger(tenant=None) -> dict:
    """The reconciliation's invariants over every member, set-based: members whose points differ from the sum of
    their entries, whose non-negative balance differs from their open lots, whose qualifying differs, and lots
    whose draws exceed what they gave."""
    tenant = tenant or demo_tenant()
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT count(*) FILTER (WHERE m.points <> coalesce(e.points, 0)),
                   count(*) FILTER (WHERE greatest(m.points, 0) <> coalesce(l.remaining, 0)),
                   count(*) FILTER (WHERE m.qualifying <> coalesce(e.qualifying, 0)),
                   count(*)
            FROM club_member m
            LEFT JOIN (SELECT member_id, sum(points) AS points, sum(qualifying) AS qualifying FROM club_pointentry
                       WHERE tenant_id = %(t)s GROUP BY member_id) e ON e.member_id = m.id
            LEFT JOIN (SELECT member_id, sum(remaining) AS remaining FROM club_pointlot
                       WHERE tenant_id = %(t)s AND remaining > 0 GROUP BY member_id) l ON l.member_id = m.id
            WHERE m.tenant_id = %(t)s""", {"t": tenant.pk})
        points, lots, qualifying, members = cursor.fetchone()
    return {"members": members, "points_off": points, "lots_off": lots, "qualifying_off": qualifying}

