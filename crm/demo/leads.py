"""Demo leads (集客登记) for seed_demo: `seed_leads(tenant, customers)` gives a tenant one lead per five
customers (at most MAX_LEADS) spread over channels, platforms (汽车之家, 懂车帝, 易车网) and statuses, with
their history. Consultants come from the sales-ish teams of the demo org chart: 销售部 (销售顾问,
集客专员) and 客服组 (customer-service specialists pass online leads to sales); some leads wait unassigned
in those teams' queues. Won leads are the customers who bought: they point at that customer and purchase.

Idempotent: a second call tops the tenant up to its target and creates nothing when it is reached. Must
run inside the tenant's scope."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Department, PositionAssignment, RoleKind
from crm.bulk import insert_rows
from crm.demo.customers import FEMALE_CHARS, MALE_CHARS, MOBILE_PREFIXES, MODELS, SURNAMES
from customers.models import Customer, Lead, LeadEvent, Purchase
from customers.services.leads import OPEN_STATUSES, PLATFORMS

MAX_LEADS = 300
CUSTOMERS_PER_LEAD = 5
SALES_TEAMS = ("销售部", "客服组")

Status, Channel = Lead.Status, Lead.Channel
STATUS_WEIGHTS = {Status.NEW: 20, Status.CONTACTED: 20, Status.APPOINTMENT: 14, Status.VISITED: 10,
                  Status.WON: 20, Status.LOST: 16}
CHANNEL_WEIGHTS = {Channel.ONLINE: 50, Channel.WALK_IN: 20, Channel.PHONE: 20, Channel.REFERRAL: 10}
PLATFORM_CODES = {"汽车之家": "QCZJ", "懂车帝": "DCD", "易车网": "YC"}
LOST_REASONS = ["已在其他店购买", "预算不足，暂缓购车", "多次联系不上", "选择了其他品牌", "只是了解，暂无购车计划",
                "价格没谈拢"]
NOTES = ["想了解最新优惠", "询问置换补贴", "想预约周末试驾", "询问贷款方案", "关注新能源车型", "", "", ""]
CONTACT_NOTES = ["电话沟通，客户有兴趣", "已加微信，发送了报价", "客户说下周再联系", "介绍了店内活动"]


def _name(rng: random.Random, online: bool) -> str:
    surname = rng.choice(SURNAMES)
    if online and rng.random() < 0.4:  # platform leads often leave only a surname
        return surname + rng.choice(["先生", "女士"])
    chars = MALE_CHARS if rng.random() < 0.6 else FEMALE_CHARS
    return surname + "".join(rng.choice(chars) for _ in range(rng.choice((1, 2, 2))))


def _mobile(rng: random.Random) -> str:
    prefixes = [prefix for prefix, weight in MOBILE_PREFIXES.items() for _ in range(weight)]
    return f"+86{rng.choice(prefixes)}{rng.randrange(10**8):08d}"


def _teams(tenant) -> list[tuple[int, list[int]]]:
    """(department id, its active specialists) for the sales-ish teams."""
    departments = dict(Department.objects.filter(name__in=SALES_TEAMS).values_list("name", "pk"))
    teams = []
    for name in SALES_TEAMS:
        if name not in departments:
            continue
        staff = sorted(set(PositionAssignment.objects.filter(
            position__department_id=departments[name], position__role_kind=RoleKind.SPECIALIST,
            staff__is_active=True).values_list("staff_id", flat=True)))
        teams.append((departments[name], staff))
    return teams


@transaction.atomic
def seed_leads(tenant, customers: int, *, stdout=None) -> int:
    target = min(MAX_LEADS, max(customers, 0) // CUSTOMERS_PER_LEAD)
    existing = Lead.objects.count()
    missing = target - existing
    teams = _teams(tenant)
    if missing <= 0 or not teams:
        return 0
    rng = random.Random(f"demo-leads:{tenant.slug}:{existing}")
    now = timezone.now()
    models = [name for name, _wmi, _low, _high, weight, _ev in MODELS for _ in range(weight)]
    sold = list(Purchase.objects.order_by("-contract_on", "-id")
                .values_list("pk", "customer_id", "customer__name", "customer__mobile", "contract_on")[:missing])
    rng.shuffle(sold)
    referrers = list(Customer.objects.filter(is_active=True).order_by("-id").values_list("pk", flat=True)[:500])
    statuses, status_weights = zip(*STATUS_WEIGHTS.items(), strict=True)
    channels, channel_weights = zip(*CHANNEL_WEIGHTS.items(), strict=True)
    leads, histories = [], []
    for number in range(existing, target):
        status = rng.choices(statuses, status_weights)[0]
        channel = rng.choices(channels, channel_weights)[0]
        if channel == Channel.REFERRAL and not referrers:
            channel = Channel.PHONE
        department, staff = teams[0] if rng.random() < 0.75 or len(teams) == 1 else teams[1]
        consultant = rng.choice(staff) if staff and (status not in OPEN_STATUSES or rng.random() < 0.85) else None
        if status == Status.WON and not sold:
            status = Status.VISITED
        created = now - timedelta(days=rng.uniform(0.2, 120))
        closed_at = None
        lead = Lead(tenant=tenant, channel=channel, status=status, consultant_id=consultant, department_id=department,
                    model_interest=rng.choice(models), created_at=created, updated_at=now)
        if status == Status.WON:
            purchase_id, customer_id, name, mobile, contract_on = sold.pop()
            lead.purchase_id, lead.customer_id, lead.name, lead.mobile = purchase_id, customer_id, name, mobile
            closed_at = min(now, timezone.make_aware(datetime.combine(contract_on, time(15))))
            lead.created_at = created = closed_at - timedelta(days=rng.uniform(5, 60))
        else:
            lead.name, lead.mobile = _name(rng, channel == Channel.ONLINE), _mobile(rng)
        if channel == Channel.ONLINE:
            lead.platform = rng.choice(PLATFORMS)
            lead.external_id = f"{PLATFORM_CODES.get(lead.platform, 'P')}{tenant.pk:02d}{number + 1:07d}"
            lead.note = rng.choice(NOTES)
        elif channel == Channel.REFERRAL:
            lead.referrer_id = rng.choice(referrers)
            lead.note = "老客户推荐"
        if status == Status.LOST:
            lead.lost_reason = rng.choice(LOST_REASONS)
        # the path the lead took, one event per step, spread between registration and its last activity
        path = [Status.NEW]
        if status != Status.NEW:
            steps = list(OPEN_STATUSES[1:])
            reached = steps[:steps.index(status) + 1] if status in steps else steps[:rng.randrange(len(steps) + 1)]
            path += [*reached, *([status] if status in (Status.WON, Status.LOST) else [])]
        idle = rng.choice([0.2, 1, 2, 4, 6, 9, 12, 16, 25]) if status in OPEN_STATUSES else rng.uniform(0, 30)
        last = closed_at or max(created, now - timedelta(days=idle))
        gaps = sorted(rng.uniform(0, 1) for _ in path[1:])
        times = [created] + [created + (last - created) * gap for gap in gaps[:-1]] + ([last] if path[1:] else [])
        lead.last_activity_at = times[-1]
        lead.closed_at = None if status in OPEN_STATUSES else times[-1]  # closed by its last step
        leads.append(lead)
        histories.append(list(zip(path, times, strict=True)))
    inserted = insert_rows(Lead, leads, returning=("id", "name", "created_at"))
    if len(inserted) != len(leads):
        raise RuntimeError("demo leads collided with existing platform lead IDs")
    events = []
    for lead, (pk, name, _created), history in zip(leads, inserted, histories, strict=True):
        if name != lead.name:  # RETURNING comes back in insertion order
            raise RuntimeError("demo leads came back out of order")
        for index, (status, when) in enumerate(history):
            note = ""
            if status == Status.LOST:
                note = lead.lost_reason
            elif status == Status.CONTACTED:
                note = rng.choice(CONTACT_NOTES)
            elif index == 0:
                note = lead.note
            events.append(LeadEvent(tenant=tenant, lead_id=pk, staff_id=lead.consultant_id, status=status,
                                    consultant_id=lead.consultant_id if index == 0 else None, note=note,
                                    created_at=when, updated_at=when))
    insert_rows(LeadEvent, events)
    if stdout is not None:
        stdout.write(f"seed_demo: {tenant.slug}: {len(leads)} leads created")
    return len(leads)
