"""The customer club for the demo (seed_demo): the programme run by 客户俱乐部, the four levels with their benefits
and service quotas, the point rules and a bonus campaign, the charter and the member handbook, the reward
catalogue — and, when the tenant has customers, about 5 % of them enrolled with cards and a history of points
(earned on past purchases and visits, some redeemed for rewards), a few activities with registrations, member
services and referrals, made through the club's services at their past times.

Idempotent: the programme's parts are found by their natural keys; the members are topped up to their share of
the customers (at most MAX_MEMBERS), each new one with its history, so a second run creates nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import Department
from club.models import (
    HandbookVersion,
    Level,
    LevelBenefit,
    PointRule,
    Programme,
    Reward,
    ServiceQuota,
)
from club.models.perks import ServiceKind

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


def seed_club(tenant) -> int:
    """The programme and, when the tenant has customers, the members with their history."""
    return seed_club_programme(tenant)
