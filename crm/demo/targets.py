"""Demo targets (绩效考核): every month's targets of the customer-service specialists, the sales consultants and the
club specialists, and demo.specialist's own target for this month, so the scorecards and the specialist's
dashboard have something to pace. Idempotent: found by their natural key first."""

from decimal import Decimal

from accounts.models import Position, Staff
from analytics.models import PeriodKind, Target

# position title, metric, value (a rate in percent, a CSI out of 100)
POSITION_TARGETS = [
    ("客服专员（服务）", "followups_done", 60),
    ("客服专员（服务）", "contact_rate", 85),
    ("客服专员（服务）", "followup_completion", 90),
    ("客服专员（销售）", "followups_done", 50),
    ("客服专员（销售）", "followup_completion", 90),
    ("服务顾问", "csi_service", 90),
    ("客服经理", "complaints_closed_in_time", 10),
    ("销售顾问", "leads_won", 8),
    ("俱乐部专员", "members_enrolled", 20),
]


def seed_targets(tenant) -> int:
    created = 0
    positions = {p.title: p for p in Position.objects.filter(title__in={t for t, _m, _v in POSITION_TARGETS})}
    for title, metric, value in POSITION_TARGETS:
        if title in positions:
            _target, made = Target.objects.get_or_create(
                tenant=tenant, metric=metric, period_kind=PeriodKind.MONTH, period_start=None,
                position=positions[title], staff=None, defaults={"value": Decimal(value)})
            created += made
    specialist = Staff.objects.filter(user__username=f"{tenant.slug}.specialist").first()
    if specialist is not None:
        month = tenant.today().replace(day=1)
        _target, made = Target.objects.get_or_create(
            tenant=tenant, metric="followups_done", period_kind=PeriodKind.MONTH, period_start=month,
            position=None, staff=specialist, defaults={"value": Decimal(80)})
        created += made
    return created
