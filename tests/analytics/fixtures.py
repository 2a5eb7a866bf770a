"""Raw follow-ups, calls and answers for the report tests, written directly (the figures must follow from
the rows, whatever path wrote them). March 2025 in Asia/Shanghai."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from accounts.models import Department, PositionAssignment, Staff
from customers.models import Customer
from service.models import Answer, FollowUp, FollowUpCall, FollowUpPlan, Question

SHANGHAI = ZoneInfo("Asia/Shanghai")
PLAN = "维修后2日回访"
PERIOD = {"date_from": "2025-03-01", "date_to": "2025-03-31"}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=SHANGHAI)


def staff_of(position_title: str, *, exclude: str | None = None) -> Staff:
    rows = Staff.objects.filter(pk__in=PositionAssignment.objects.filter(position__title=position_title)
                                .values("staff_id")).select_related("user").order_by("pk")
    if exclude:
        rows = rows.exclude(user__username=exclude)
    return rows.first()


class Data:
    def __init__(self, tenant):
        self.tenant = tenant
        self.plan = FollowUpPlan.objects.get(name=PLAN)
        self.desk = Department.objects.get(name="客服组")
        self.specialist = Staff.objects.get(user__username=f"{tenant.slug}.specialist")
        self.colleague = staff_of("客服专员（服务）", exclude=f"{tenant.slug}.specialist")  # same team
        self.seller = staff_of("销售顾问")  # 销售部: outside the manager's subtree
        self.customers = list(Customer.objects.order_by("pk"))
        self.questions = {q.kind: q for q in Question.objects.filter(
            version__questionnaire=self.plan.questionnaire_id).order_by("-order")}
        self.occasion = 0

    def followup(self, due: date, *, status="open", assignee=None, department=None, closed_at=None) -> FollowUp:
        self.occasion += 1
        customer = self.customers[self.occasion % len(self.customers)]
        return FollowUp.objects.create(
            tenant=self.tenant, plan=self.plan, customer=customer, occasion=date(2000, 1, 1) + timedelta(
                days=self.occasion), due_on=due, visible_from=due, expires_on=due + timedelta(days=5),
            assignee=assignee, department=department, status=status, closed_at=closed_at)

    def call(self, followup: FollowUp, when: datetime, outcome: str, *, staff=None, feedback="", proposal="",
             answers=None) -> FollowUpCall:
        call = FollowUpCall.objects.create(
            tenant=self.tenant, followup=followup, customer_id=followup.customer_id,
            staff=staff or followup.assignee, outcome=outcome, feedback=feedback, proposal=proposal,
            retry_at=when + timedelta(hours=2) if outcome in ("not_reached", "rescheduled") else None)
        FollowUpCall.objects.filter(pk=call.pk).update(created_at=when)
        for kind, value in (answers or {}).items():
            question = self.questions[kind]
            Answer.objects.create(tenant=self.tenant, call=call, question=question,
                                  number=value if isinstance(value, int) else None,
                                  text=value if kind == "text" else "",
                                  choices=value if isinstance(value, list) else [])
        return call


def seed_march(tenant) -> Data:
    """demo.specialist: A done on time (23:30 on its due day), C open; colleague: B done late (00:30 the day
    after its due day, still the due day in UTC); 客服组 queue: D expired; 销售部 seller: E done on time."""
    d = Data(tenant)
    d.a = d.followup(date(2025, 3, 10), status="done", assignee=d.specialist, department=d.desk,
                     closed_at=at(10, 23, 30))
    d.b = d.followup(date(2025, 3, 10), status="done", assignee=d.colleague, department=d.desk,
                     closed_at=at(11, 0, 30))
    d.c = d.followup(date(2025, 3, 12), assignee=d.specialist, department=d.desk)
    d.d = d.followup(date(2025, 3, 12), status="expired", department=d.desk, closed_at=at(18, 1))
    d.e = d.followup(date(2025, 3, 20), status="done", assignee=d.seller, closed_at=at(19, 10))
    d.call(d.a, at(9, 10), "not_reached")
    d.call(d.a, at(10, 23, 30), "completed", feedback="complaint", proposal="建议把第三题改为开放题",
           answers={"scale": 4, "yes_no": 1, "single": ["满意"], "text": "服务很好，等待时间有点长"})
    d.call(d.b, at(11, 0, 30), "completed", answers={"scale": 2, "yes_no": 0, "single": ["一般"]})
    d.call(d.e, at(19, 10), "completed", feedback="need", proposal="=HYPERLINK(\"http://x\")")
    return d
