"""Complaints for the demo (seed_demo): the common categories, service levels, the complaints team, and half a
year of complaints in every state, made through the same services staff use (with past times), so the list,
the clocks, the history and the complaint report have something to show. Skipped when the tenant has them."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.test.utils import override_settings
from django.utils import timezone

from accounts.models import Department, Staff
from customers.models import Customer
from service.models import Complaint, ComplaintCategory, ComplaintPolicy, ServiceSettings, Severity
from service.services import complaint_clocks, complaints

CATEGORIES = ["服务态度", "维修质量", "等待时间", "价格收费", "配件供应", "销售承诺", "车辆质量", "其他"]
# severity, category (None: any), first response hours, resolution hours
POLICIES = [(Severity.NORMAL, None, 8, 40), (Severity.MAJOR, None, 2, 16), (Severity.NORMAL, "维修质量", 4, 24)]
STORIES = [
    ("保养后发动机异响", "上周保养后车辆启动时有异响，怀疑机油加错了。", "维修质量"),
    ("等待时间过长", "预约了上午九点保养，结果等到十二点才交车。", "等待时间"),
    ("服务顾问态度差", "询问维修费用明细时服务顾问很不耐烦。", "服务态度"),
    ("收费与报价不符", "结算金额比报价多了六百元，没有提前告知。", "价格收费"),
    ("配件迟迟不到", "订的后视镜已经等了三周还没到货。", "配件供应"),
    ("交车承诺未兑现", "购车时承诺赠送的脚垫和贴膜至今没有兑现。", "销售承诺"),
    ("新车漆面有划痕", "提车第二天发现左前门有明显划痕。", "车辆质量"),
]
COUNT = 36
DAYS = 180


def seed_complaint_setup(tenant) -> None:
    """Categories, service levels and the complaints team (客服组); skipped when the tenant has categories."""
    if ComplaintCategory.objects.exists():
        return
    ComplaintCategory.objects.bulk_create([ComplaintCategory(tenant=tenant, name=name) for name in CATEGORIES])
    categories = {c.name: c for c in ComplaintCategory.objects.all()}
    ComplaintPolicy.objects.bulk_create([
        ComplaintPolicy(tenant=tenant, severity=severity, category=categories.get(category), response_hours=response,
                        resolution_hours=resolution) for severity, category, response, resolution in POLICIES])
    ServiceSettings.objects.filter(tenant=tenant).update(complaint_department=Department.objects.filter(name="客服组")
                                                         .first())
    complaints.feedback_plan_get_or_create(tenant)


def seed_complaints(tenant, *, count: int = COUNT) -> int:
    """Half a year of complaints of the specialists' customers: most closed, some open, overdue, waiting,
    resolved or reopened. The notices they would send are not sent."""
    if Complaint.objects.exists():
        return 0
    customers = list(Customer.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True)[:count])
    owners = list(Staff.objects.filter(is_active=True, positions__title__startswith="客服专员").distinct()
                  .order_by("pk"))
    if not customers or not owners:
        return 0
    rng = random.Random(f"{tenant.slug}-complaints")
    zone, today, now = tenant.zone, tenant.today(), timezone.now()
    categories = {c.name: c for c in ComplaintCategory.objects.all()}
    made = 0
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        for n in range(count):
            summary, description, category = STORIES[n % len(STORIES)]
            age = rng.randrange(DAYS) if n >= 6 else n  # the first few are recent: some still open
            opened = datetime.combine(today - timedelta(days=age), time(rng.randint(9, 16), rng.choice([0, 30])),
                                      tzinfo=zone)
            if opened > now:  # today's, at an hour still ahead: it came in a little while ago instead
                opened = now - timedelta(minutes=rng.randint(20, 90))
            owner = rng.choice(owners)
            complaint = complaints.complaint_register(tenant=tenant, actor=owner, now=opened, complaint=Complaint(
                customer_id=customers[n % len(customers)], channel=rng.choice(Complaint.Channel.values),
                category=categories[category], severity=Severity.MAJOR if n % 9 == 4 else Severity.NORMAL,
                summary=summary, description=description, owner=owner))
            made += 1
            _story(complaint, owner, opened, n, rng, now)
        complaint_clocks.complaints_watch(tenant, now=now)  # what is overdue by now is escalated
    return made


def _story(complaint: Complaint, owner: Staff, opened: datetime, n: int, rng: random.Random, now: datetime) -> None:
    step = opened + timedelta(hours=rng.choice([1, 2, 3, 6, 20]))
    if n in (0, 1) or step > now:
        return  # just registered
    complaints.complaint_respond(complaint_id=complaint.pk, actor=owner, now=step,
                                 text="已致电客户致歉，并约定今天内给出处理方案。")
    if n == 2:
        complaints.complaint_wait_for_customer(complaint_id=complaint.pk, actor=owner, now=step + timedelta(hours=1),
                                               text="等待客户提供维修单照片。")
        return
    done = step + timedelta(hours=rng.choice([4, 20, 30, 60, 120]))
    if n == 3 or done > now:
        return  # being handled
    complaints.complaint_resolve(complaint_id=complaint.pk, actor=owner, now=done,
                                 root_cause="服务流程中未与客户确认项目和费用。",
                                 action_taken="退还多收费用，并对责任人进行培训。",
                                 result="向客户说明原因并致歉，已退还费用。")
    confirmed = done + timedelta(hours=rng.choice([2, 24, 48]))
    if n == 5 or confirmed > now:
        return  # waiting for the customer's confirmation
    if n % 8 == 7:
        complaints.complaint_confirm(complaint_id=complaint.pk, actor=owner, satisfied=False, now=confirmed,
                                     text="客户认为补偿不足，要求再次处理。")
        again = confirmed + timedelta(hours=30)
        if again > now:
            return
        complaints.complaint_resolve(complaint_id=complaint.pk, actor=owner, now=again,
                                     root_cause="补偿标准未与客户沟通清楚。", action_taken="增加一次免费保养。",
                                     result="客户接受增加一次免费保养。")
        confirmed = again + timedelta(hours=24)
        if confirmed > now:
            return
    complaints.complaint_confirm(complaint_id=complaint.pk, actor=owner, satisfied=True, now=confirmed,
                                 text="客户表示满意。")
