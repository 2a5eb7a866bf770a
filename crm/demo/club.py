"""The customer club for the demo (seed_demo): the programme run by 客户俱乐部, the four levels with their benefits
and service quotas, the point rules and a bonus campaign, the charter and the member handbook, the reward
catalogue — and, when the tenant has customers, about 5 % of them enrolled with cards and a history of points
(earned on past purchases and visits, some redeemed for rewards), a few activities with registrations, member
services and referrals, made through the club's services at their past times.

Idempotent: the programme's parts are found by their natural keys; the members are topped up to their share of
the customers (at most MAX_MEMBERS), each new one with its history, so a second run creates nothing.

Fast at a million customers (50,000 members): enrolment, cards, the earnings of their purchases and visits
(with the keys the automatic earning uses, so nothing earns twice), their lots, balances and levels are written
set-based (INSERT … SELECT); only a few hundred redemptions, attendance and referral points go through the
ledger's services one by one."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Department, Staff
from club.models import (
    Activity,
    Card,
    HandbookVersion,
    Level,
    LevelBenefit,
    LevelEvent,
    Member,
    PointEntry,
    PointLot,
    PointRule,
    Programme,
    Referral,
    Registration,
    Reward,
    ServiceQuota,
    ServiceRequest,
)
from club.models.perks import ServiceKind
from club.selectors.access import entry_level, programme_of
from club.selectors.levels import window_of
from club.services.members import card_reissue, card_report_lost
from club.services.points import points_earn
from club.services.rewards import redemption_fulfil, redemption_reserve
from customers.models import Customer, Lead, Purchase, ServiceVisit

SHARE = 20  # one customer in twenty is a member (5 %)
MAX_MEMBERS = 100_000  # per tenant: 50,000 at --customers 1000000
CONSENT = "签字同意（入会申请表）"
REDEMPTIONS = 120  # through the ledger's service, per run: the newest members who can afford a reward
SERVICES = 40
REFERRALS = 30

# name, rank, to reach, to keep, earning multiplier, benefits, quotas {service: times a year}
LEVELS = [
    ("普卡", 0, 0, 0, Decimal("1.00"), [("积分累计", "每消费1元累计1积分，积分可兑换礼品。"),
                                         ("会员活动", "受邀参加俱乐部自驾游、亲子活动等。")],
     {}),
    ("银卡", 1, 2000, 1500, Decimal("1.10"), [("工时九五折", "保养维修工时费享受九五折。"),
                                               ("生日礼遇", "生日当月消费双倍积分。")],
     {ServiceKind.INSPECTION: 1}),
    ("金卡", 2, 8000, 6000, Decimal("1.20"), [("工时九折", "保养维修工时费享受九折。"),
                                              ("专属顾问", "指定服务顾问一对一接待。")],
     {ServiceKind.INSPECTION: 1, ServiceKind.PICKUP: 2}),
    ("钻石卡", 3, 20000, 15000, Decimal("1.50"), [("工时八五折", "保养维修工时费享受八五折。"),
                                                  ("优先预约", "预约保养优先安排工位。"),
                                                  ("机场接送", "每年两次免费机场接送。")],
     {ServiceKind.INSPECTION: 1, ServiceKind.PICKUP: 4, ServiceKind.REPLACEMENT_CAR: 2}),
]

# name, earned on, visit type, points per yuan, counts towards levels, from (days from today), until, caps
RULES = [
    ("购车积分", PointRule.Source.PURCHASE, "", Decimal("0.0500"), True, None, None, 5000, None),
    ("售后消费积分", PointRule.Source.VISIT, "", Decimal("1.0000"), True, None, None, None, None),
    ("金秋保养双倍积分", PointRule.Source.VISIT, "", Decimal("1.0000"), False, -30, 60, 2000, 5000),
]

REWARDS = [
    ("车载香薰", "高端车载香薰一套，多种香型可选。", 800, 200, 2),
    ("免费洗车券（5次）", "本店精洗服务五次。", 1500, None, None),
    ("原厂脚垫", "原厂全包围脚垫一套。", 3000, 50, 1),
    ("免费小保养一次", "含机油、机滤及工时。", 6000, 30, 1),
    ("行车记录仪", "前后双录行车记录仪，含安装。", 12000, 10, 1),
]

CHARTER = """# 客户俱乐部章程

## 第一章 总则

1. 客户俱乐部（以下简称“俱乐部”）由本公司客户关系管理部客户俱乐部负责运营。
2. 俱乐部以“用心服务、共享出行”为宗旨，为会员提供积分、礼遇和专属活动。

## 第二章 会员

1. 在本店购车或接受售后服务的客户，经本人同意后可加入俱乐部。
2. 会员级别分为**普卡、银卡、金卡、钻石卡**，按近十二个月的定级积分评定。
3. 会员卡遗失应及时挂失，补办后积分、级别和历史记录全部保留。

## 第三章 积分

1. 积分自获得之月起二十四个月后的月末失效。
2. 退货或取消的消费，其积分将被扣回；已使用的积分形成欠分，以后获得的积分优先抵扣。
"""

HANDBOOK = """# 会员手册

欢迎加入客户俱乐部！本手册介绍会员权益与积分使用方法。

## 如何获得积分

- 购车：每消费1元累计0.05积分（每次最多5000积分）
- 保养维修：每消费1元累计1积分
- 参加俱乐部活动、推荐亲友购车均可获得积分

## 如何使用积分

积分可在服务前台兑换礼品，兑换时请出示会员卡或报手机号码。

## 会员服务

银卡及以上会员每年可享受**代办年检**；金卡、钻石卡会员另享**接送服务**，钻石卡会员享**替换车**服务。

## 联系我们

俱乐部服务热线：400-800-1234（每日 9:00–18:00）
"""


def seed_club_programme(tenant) -> int:
    """The programme (run by 客户俱乐部), its levels with benefits and quotas, the point rules, the charter and the
    handbook, and the rewards: each found by its natural key first. Returns how many rows were made."""
    made = 0
    department = Department.objects.filter(name="客户俱乐部").first()
    programme, created = Programme.objects.get_or_create(tenant=tenant, defaults={"department": department})
    made += created
    if programme.department_id is None and department is not None:
        programme.department = department
        programme.save(update_fields=["department", "updated_at"])
    for name, rank, entry, keep, multiplier, benefits, quotas in LEVELS:
        level, created = Level.objects.get_or_create(tenant=tenant, rank=rank, defaults={
            "name": name, "entry_threshold": entry, "keep_threshold": keep, "earn_multiplier": multiplier})
        made += created
        if not level.benefits.exists():  # an entry level made earlier by the club (entry_level) has none
            for title, description in benefits:
                LevelBenefit.objects.create(tenant=tenant, level=level, title=title, description=description)
                made += 1
        for kind, per_year in quotas.items():
            made += ServiceQuota.objects.get_or_create(tenant=tenant, level=level, kind=kind,
                                                       defaults={"per_year": per_year})[1]
    today = tenant.today()
    for name, source, visit_type, per_yuan, qualifying, starts, ends, cap_earning, cap_member in RULES:
        made += PointRule.objects.get_or_create(tenant=tenant, name=name, defaults={
            "source": source, "visit_type": visit_type, "points_per_yuan": per_yuan, "qualifying": qualifying,
            "starts_on": None if starts is None else today + timedelta(days=starts),
            "ends_on": None if ends is None else today + timedelta(days=ends),
            "cap_per_earning": cap_earning, "cap_per_member": cap_member})[1]
    published = timezone.now() - timedelta(days=200)
    for kind, title, body in ((HandbookVersion.Kind.CHARTER, "客户俱乐部章程", CHARTER),
                              (HandbookVersion.Kind.HANDBOOK, "会员手册", HANDBOOK)):
        made += HandbookVersion.objects.get_or_create(tenant=tenant, kind=kind, version=1, defaults={
            "title": title, "body": body, "published_at": published})[1]
    for name, description, price, stock, limit in REWARDS:
        made += Reward.objects.get_or_create(tenant=tenant, name=name, defaults={
            "description": description, "points_price": price, "stock": stock, "per_member_limit": limit})[1]
    return made


def seed_club(tenant, *, stdout=None) -> int:
    """The programme and, when the tenant has customers, the members with their history. Returns how many
    members were enrolled."""
    seed_club_programme(tenant)
    with transaction.atomic():
        member_ids = _enrol_members(tenant)
        if member_ids:
            _earn_history(tenant, member_ids)
            _levels(tenant, member_ids)
    if member_ids:
        _service_history(tenant, member_ids)
    seed_activities(tenant)
    if stdout is not None and member_ids:
        stdout.write(f"seed_demo: {tenant.slug}: {len(member_ids)} club members enrolled")
    return len(member_ids)


# --- members, set-based ---------------------------------------------------------------------------------------
# Every statement below names the tenant in its WHERE (raw SQL does not pass the scoped manager).

def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _enrol_members(tenant) -> list[int]:
    """Enrol every SHARE-th active customer not yet a member (at most MAX_MEMBERS in all), enrolled 30 to 540
    days ago at the entry level with consent on paper, each with a card numbered by the programme's counter."""
    programme = Programme.objects.select_for_update().get(tenant=tenant)
    already = Member.objects.count()
    room = MAX_MEMBERS - already
    if room <= 0:
        return []
    entry = entry_level(tenant)
    params = {"tenant": tenant.pk, "entry": entry.pk, "zone": tenant.timezone, "share": SHARE, "room": room,
              "consent": CONSENT, "year_window": programme.level_window == Programme.Window.YEAR,
              "today": tenant.today()}
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO {_table(Member)} (tenant_id, created_at, updated_at, customer_id, level_id, status,
                enrolled_at, consent_at, consent_note, points, qualifying, level_since, review_on, cancel_reason)
            SELECT c.tenant_id, now(), now(), c.id, %(entry)s, 'active', e.at, e.at, %(consent)s, 0, 0, e.day,
                   CASE WHEN %(year_window)s THEN make_date(extract(year FROM %(today)s::date)::int, 12, 31)
                        ELSE (e.day + make_interval(years => (1 + (%(today)s::date - e.day) / 366)::int))::date END, ''
            FROM {_table(Customer)} c
            CROSS JOIN LATERAL (SELECT now() - make_interval(days => (30 + (c.id * 7919) %% 510)::int,
                                                             mins => ((c.id * 31) %% 600)::int) AS at) AS t
            CROSS JOIN LATERAL (SELECT t.at AS at, (t.at AT TIME ZONE %(zone)s)::date AS day) AS e
            WHERE c.tenant_id = %(tenant)s AND c.is_active AND c.id %% %(share)s = 7
              AND NOT EXISTS (SELECT 1 FROM {_table(Member)} m WHERE m.tenant_id = c.tenant_id
                              AND m.customer_id = c.id)
            ORDER BY c.id LIMIT %(room)s
            ON CONFLICT DO NOTHING RETURNING id""", params)
        member_ids = sorted(row[0] for row in cursor.fetchall())
        if not member_ids:
            return []
        cursor.execute(f"""
            INSERT INTO {_table(Card)} (tenant_id, created_at, updated_at, member_id, number, status, issued_at)
            SELECT m.tenant_id, now(), now(), m.id,
                   %(prefix)s || lpad((%(next)s + row_number() OVER (ORDER BY m.id) - 1)::text, %(digits)s, '0'),
                   'active', m.enrolled_at
            FROM {_table(Member)} m WHERE m.tenant_id = %(tenant)s AND m.id = ANY(%(ids)s)""",
                       {"tenant": tenant.pk, "ids": member_ids, "prefix": programme.card_prefix,
                        "next": programme.card_next, "digits": programme.card_digits})
        cursor.execute(f"ANALYZE {_table(Member)}, {_table(Card)}")  # the statements that follow plan with them
    Programme.objects.filter(pk=programme.pk).update(card_next=programme.card_next + len(member_ids))
    return member_ids


def _rule_rate(source: str) -> tuple[Decimal, int | None]:
    rule = (PointRule.objects.filter(source=source, active=True, starts_on__isnull=True, ends_on__isnull=True,
                                     visit_type="").order_by("pk").first())
    return (rule.points_per_yuan, rule.cap_per_earning) if rule else (Decimal(0), None)


def _earn_history(tenant, member_ids: list[int]) -> None:
    """What the members' purchases and service visits since their enrolment earned under the standing rules (the
    same keys as the automatic earning, so none earns twice), each with its lot expiring as the programme says,
    and the members' balances from their journal."""
    programme = programme_of(tenant)
    months = programme.validity_months if programme.validity == Programme.Validity.MONTHS else 0
    common = {"tenant": tenant.pk, "ids": member_ids, "zone": tenant.timezone, "today": tenant.today()}
    with connection.cursor() as cursor:
        for model, source, day, reason in ((Purchase, "purchase", "contract_on", "购车积分"),
                                           (ServiceVisit, "visit", "opened_on", "售后消费积分")):
            rate, cap = _rule_rate(source)
            cursor.execute(f"""
                INSERT INTO {_table(PointEntry)} (tenant_id, created_at, updated_at, member_id, kind, points,
                    qualifying, spend, reason, source, source_id, key, card_id, actor, occurred_at)
                SELECT m.tenant_id, now(), now(), m.id, 'earn', x.points, x.points, s.amount, %(reason)s,
                       %(source)s, s.id, %(source)s || ':' || s.id, card.id, %(actor)s,
                       (s.{day} + time '11:00') AT TIME ZONE %(zone)s
                FROM {_table(Member)} m
                JOIN {_table(model)} s ON s.tenant_id = m.tenant_id AND s.customer_id = m.customer_id
                JOIN {_table(Card)} card ON card.tenant_id = m.tenant_id AND card.member_id = m.id
                                         AND card.status = 'active'
                CROSS JOIN LATERAL (SELECT LEAST(floor(s.amount * %(rate)s)::int, %(cap)s) AS points) AS x
                WHERE m.tenant_id = %(tenant)s AND m.id = ANY(%(ids)s) AND s.cancelled_at IS NULL
                  AND s.{day} >= (m.enrolled_at AT TIME ZONE %(zone)s)::date AND s.{day} <= %(today)s
                  AND x.points > 0
                ON CONFLICT DO NOTHING""",
                           {**common, "reason": reason, "source": source, "actor": f"{source} earning",
                            "rate": rate, "cap": cap if cap is not None else 2**31 - 1})
        expiry = ("NULL" if programme.validity == Programme.Validity.NEVER else
                  "make_date(extract(year FROM x.day)::int + 1, 12, 31)"
                  if programme.validity == Programme.Validity.NEXT_YEAR else
                  "(date_trunc('month', x.day) + make_interval(months => (%(months)s + 1)::int)"
                  " - interval '1 day')::date")
        cursor.execute(f"""
            INSERT INTO {_table(PointLot)} (tenant_id, created_at, updated_at, member_id, entry_id, points, remaining,
                earned_on, expires_on)
            SELECT e.tenant_id, now(), now(), e.member_id, e.id, e.points, e.points, x.day, {expiry}
            FROM {_table(PointEntry)} e
            CROSS JOIN LATERAL (SELECT (e.occurred_at AT TIME ZONE %(zone)s)::date AS day) AS x
            WHERE e.tenant_id = %(tenant)s AND e.member_id = ANY(%(ids)s) AND e.kind = 'earn' AND e.points > 0
              AND NOT EXISTS (SELECT 1 FROM {_table(PointLot)} l WHERE l.tenant_id = e.tenant_id
                              AND l.entry_id = e.id)""", {**common, "months": months})
        cursor.execute(f"ANALYZE {_table(PointEntry)}, {_table(PointLot)}")
        cursor.execute(f"""
            UPDATE {_table(Member)} m SET points = j.points, qualifying = j.qualifying, updated_at = now()
            FROM (SELECT member_id, sum(points) AS points, sum(qualifying) AS qualifying FROM {_table(PointEntry)}
                  WHERE tenant_id = %(tenant)s AND member_id = ANY(%(ids)s) GROUP BY member_id) AS j
            WHERE m.tenant_id = %(tenant)s AND m.id = j.member_id""", common)


def _levels(tenant, member_ids: list[int]) -> None:
    """Each member at the highest level their qualifying points of the programme's window reach, with the
    upgrade event dated at their latest earning."""
    programme = programme_of(tenant)
    start, _end = window_of(programme, tenant.today())
    entry = entry_level(tenant)
    with connection.cursor() as cursor:
        cursor.execute(f"""
            WITH reached AS (
                SELECT m.id AS member_id, w.qualifying, w.last_at,
                       (SELECT l.id FROM {_table(Level)} l WHERE l.tenant_id = m.tenant_id
                          AND l.entry_threshold <= w.qualifying ORDER BY l.rank DESC LIMIT 1) AS level_id
                FROM {_table(Member)} m
                JOIN (SELECT member_id, sum(qualifying) AS qualifying, max(occurred_at) AS last_at
                      FROM {_table(PointEntry)} WHERE tenant_id = %(tenant)s AND member_id = ANY(%(ids)s)
                        AND occurred_at >= %(start)s GROUP BY member_id) AS w ON w.member_id = m.id
                WHERE m.tenant_id = %(tenant)s AND m.id = ANY(%(ids)s)
            ), moved AS (
                UPDATE {_table(Member)} m SET level_id = r.level_id,
                       level_since = (r.last_at AT TIME ZONE %(zone)s)::date, updated_at = now()
                FROM reached r WHERE m.tenant_id = %(tenant)s AND m.id = r.member_id AND r.level_id IS NOT NULL
                  AND r.level_id <> %(entry)s
                RETURNING m.id, m.level_id, m.review_on, r.last_at, r.qualifying
            )
            INSERT INTO {_table(LevelEvent)} (tenant_id, created_at, updated_at, member_id, kind, from_level_id,
                to_level_id, review_on, occurred_at, qualifying)
            SELECT %(tenant)s, now(), now(), id, 'upgrade', %(entry)s, level_id, review_on, last_at, qualifying
            FROM moved ON CONFLICT DO NOTHING""",
                       {"tenant": tenant.pk, "ids": member_ids, "zone": tenant.timezone, "entry": entry.pk,
                        "start": tenant.day_bounds(start)[0]})


# --- through the services: redemptions, a lost card, member services, referrals ------------------------------

def _service_history(tenant, member_ids: list[int]) -> None:
    director = Staff.objects.filter(user__username=f"{tenant.slug}.director").first()
    club_staff = list(Staff.objects.filter(is_active=True, positions__department__name="客户俱乐部").distinct()
                      .order_by("pk")) or ([director] if director else [])
    rewards = list(Reward.objects.filter(active=True).order_by("points_price"))
    cheapest = rewards[0].points_price if rewards else None
    # redemptions: the members with the most points among the new ones spend on the dearest reward they afford
    if cheapest is not None:
        members = list(Member.objects.filter(pk__in=member_ids, points__gte=cheapest).order_by("-points", "pk")
                       [:REDEMPTIONS])
        for n, member in enumerate(members):
            reward = next(r for r in reversed(rewards) if r.points_price <= member.points)
            if reward.stock is not None and reward.stock < 1:
                continue
            staff = club_staff[n % len(club_staff)]
            redemption = redemption_reserve(member=member, reward=reward, staff=staff)
            if n % 3 != 0:  # two in three handed over, the others waiting
                redemption_fulfil(redemption=redemption, staff=staff)
            if reward.stock is not None:
                reward.stock -= 1
    # a card reported lost and reissued (补办), and one lost and waiting
    cards = list(Card.objects.filter(member_id__in=member_ids, status=Card.Status.ACTIVE).order_by("pk")[:2])
    if cards:
        card_reissue(card=card_report_lost(card=cards[0], staff=director), staff=director)
    if len(cards) > 1:
        card_report_lost(card=cards[1], staff=director)
    # member services of the upper levels, in every state
    today = tenant.today()
    members = list(Member.objects.filter(pk__in=member_ids, level__rank__gte=1).select_related("level")
                   .order_by("pk")[:SERVICES])
    kinds = [ServiceKind.INSPECTION, ServiceKind.PICKUP, ServiceKind.REPLACEMENT_CAR]
    statuses = [ServiceRequest.Status.DONE, ServiceRequest.Status.DONE, ServiceRequest.Status.SCHEDULED,
                ServiceRequest.Status.REQUESTED, ServiceRequest.Status.CANCELLED]
    requests = []
    for n, member in enumerate(members):
        status = statuses[n % len(statuses)]
        wanted = today + timedelta(days=(n % 20) - 14 if status != ServiceRequest.Status.DONE else -(n % 60) - 1)
        staff = club_staff[n % len(club_staff)]
        requests.append(ServiceRequest(
            tenant=tenant, member=member, kind=kinds[n % len(kinds)] if member.level.rank >= 3 else kinds[n % 2]
            if member.level.rank >= 2 else ServiceKind.INSPECTION, wanted_on=wanted, quota_year=wanted.year,
            status=status, requested_by=staff, delivered_by=staff if status == ServiceRequest.Status.DONE else None,
            done_at=datetime.combine(wanted, time(15), tzinfo=tenant.zone)
            if status == ServiceRequest.Status.DONE else None,
            scheduled_for=datetime.combine(wanted, time(10), tzinfo=tenant.zone)
            if status == ServiceRequest.Status.SCHEDULED else None))
    ServiceRequest.objects.bulk_create(requests)
    # referrals: the leads a member referred (lead.referrer); a won one earns the referrer the points once
    by_customer = dict(Member.objects.filter(pk__in=member_ids).values_list("customer_id", "pk"))
    leads = list(Lead.objects.filter(referrer_id__in=list(by_customer), club_referral__isnull=True)
                 .order_by("pk")[:REFERRALS])
    points = programme_of(tenant).referral_points
    for lead in leads:
        with transaction.atomic():
            referral = Referral.objects.create(tenant=tenant, member_id=by_customer[lead.referrer_id], lead=lead,
                                               created_by=director)
            if lead.status == Lead.Status.WON and points:
                entry = points_earn(member=referral.member, points=points, source=PointEntry.Source.REFERRAL,
                                    source_id=lead.pk, key=f"referral:{lead.pk}", reason=f"推荐{lead.name}成交",
                                    actor="referral", occurred_at=lead.last_activity_at)
                if entry is not None:
                    Referral.objects.filter(pk=referral.pk).update(entry=entry)


# --- activities -------------------------------------------------------------------------------------------------

# title, days from today, hours, place, capacity, points for attending, cancelled
ACTIVITIES = [
    ("春季自驾游·怀柔踏青", -75, 8, "怀柔雁栖湖", 30, 200, False),
    ("亲子汽车知识课堂", -40, 3, "展厅二楼会议室", 20, 100, False),
    ("夏季空调免费检测日", -12, 6, "售后服务中心", 50, 50, False),
    ("金卡会员品鉴晚宴", 10, 3, "国贸大酒店", 24, 300, False),
    ("秋季越野体验营", 25, 8, "延庆越野基地", 40, 200, False),
    ("雨天取消的露营活动", -20, 8, "密云水库", 20, 100, True),
]


def seed_activities(tenant) -> int:
    """The club's activities of the last quarter and the coming month, with registrations of members (a waiting
    list past capacity), check-ins and attendance points for the past ones. Skipped when the tenant has the demo's
    activities already, or no members."""
    if Activity.objects.filter(title__in=[activity[0] for activity in ACTIVITIES]).exists():
        return 0
    members = list(Member.objects.filter(status=Member.Status.ACTIVE).order_by("-enrolled_at", "pk")[:120])
    if not members:
        return 0
    organiser = Staff.objects.filter(is_active=True, positions__title="客户俱乐部经理").order_by("pk").first()
    today, now = tenant.today(), timezone.now()
    made = 0
    for n, (title, days, hours, place, capacity, points, cancelled) in enumerate(ACTIVITIES):
        starts = datetime.combine(today + timedelta(days=days), time(9 if hours > 4 else 14), tzinfo=tenant.zone)
        past = starts + timedelta(hours=hours) < now
        activity = Activity.objects.create(
            tenant=tenant, title=title, description=f"{title}，欢迎会员报名参加。", starts_at=starts,
            ends_at=starts + timedelta(hours=hours), place=place, capacity=capacity, attendance_points=points,
            organiser=organiser, status=Activity.Status.CANCELLED if cancelled
            else Activity.Status.DONE if past else Activity.Status.PLANNED)
        made += 1
        invited = members[(n * 17) % len(members):][:capacity + 6] or members[:capacity + 6]
        for k, member in enumerate(invited):
            at = min(starts - timedelta(days=10 - k % 7), now - timedelta(hours=k + 1))  # never ahead of now
            over = k >= capacity
            status = (Registration.Status.WAITLISTED if over else Registration.Status.CANCELLED if cancelled
                      else Registration.Status.ATTENDED if past and k % 5 != 4 else Registration.Status.REGISTERED
                      if k % 6 != 5 else Registration.Status.INVITED)
            registration = Registration.objects.create(
                tenant=tenant, activity=activity, member=member, status=status, invited_at=at - timedelta(days=3),
                invite_channel=("call", "sms", "email")[k % 3],
                registered_at=None if status == Registration.Status.INVITED else at,
                checked_in_at=starts + timedelta(minutes=k % 30) if status == Registration.Status.ATTENDED else None,
                checked_in_by=organiser if status == Registration.Status.ATTENDED else None)
            if status == Registration.Status.ATTENDED and points:
                points_earn(member=member, points=points, source=PointEntry.Source.ACTIVITY,
                            source_id=registration.pk, key=f"activity:{registration.pk}", reason=f"参加{title}",
                            actor="attendance", occurred_at=registration.checked_in_at)
    return made
