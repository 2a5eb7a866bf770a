"""Three months of past follow-up calls for the demo (seed_demo), so the follow-up report has calls to show and
the customers' timelines have calls in their past: the after-sales and new-car follow-ups of the purchases and
service visits before the queues of today, called by the specialists who held them, recorded through the same
service staff use (followup_call_record) at the time they were made. Skipped when the tenant has calls already, or has
no such occasions."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from accounts.models import PositionAssignment
from customers.models import Purchase, ServiceVisit
from service.models import Answer, FollowUp, FollowUpCall, FollowUpPlan, Question, QuestionnaireVersion
from service.services import calls
from service.services.calls import CallRecord

DAYS = 90
CALLS = 150  # follow-ups at most per tenant
NOTES = ["客户对服务表示满意", "客户说车辆使用正常", "客户希望下次保养提前提醒", "", "", ""]
NEEDS = ["想了解延保服务", "询问下次保养的优惠", "希望办理会员卡"]
GRIEVANCES = ["抱怨等待时间太长", "觉得保养价格偏高"]
ANSWERS = {Question.Kind.TEXT: ["很好", "一般", "没有了", "希望服务更快一些"]}
Trigger, Outcome = FollowUpPlan.Trigger, FollowUpCall.Outcome


def seed_call_history(tenant, *, calls: int = CALLS) -> int:
    """Create up to `calls` past follow-ups of the round-robin call plans with their calls; the number made."""
    if FollowUpCall.objects.exists():
        return 0
    zone, today = tenant.zone, tenant.today()
    rng = random.Random(f"{tenant.slug}-calls")
    plans = list(FollowUpPlan.objects.filter(assignment=FollowUpPlan.Assignment.ROUND_ROBIN, is_active=True,
                                             trigger__in=[Trigger.PURCHASE, Trigger.SERVICE_VISIT])
                 .order_by("pk"))
    work = []
    for plan in plans:
        callers = list(PositionAssignment.objects.filter(position_id=plan.position_id, staff__is_active=True)
                       .order_by("staff_id").values_list("staff", flat=True))
        version = (QuestionnaireVersion.objects.filter(questionnaire_id=plan.questionnaire_id, is_published=True)
                   .order_by("-number").first())
        questions = list(Question.objects.filter(version=version).order_by("order")) if version else []
        # occasions old enough that today's generation does not show them any more
        last = today - timedelta(days=plan.offset_days + plan.expires_days_after + 1)
        first = today - timedelta(days=DAYS)
        source = Purchase.objects.annotate(occasion=F("contract_on")) if plan.trigger == Trigger.PURCHASE \
            else ServiceVisit.objects.annotate(occasion=F("opened_on"))
        occasions = list(source.filter(occasion__range=(first, last), customer__is_active=True)
                         .order_by("-occasion", "pk").values_list("customer_id", "vehicle_id", "occasion")[:calls])
        work += [(plan, callers, version, questions, occasion) for occasion in occasions if callers]
    rng.shuffle(work)
    made = 0
    for plan, callers, version, questions, (customer_id, vehicle_id, occasion) in work[:calls]:
        if FollowUp.objects.filter(plan=plan, customer_id=customer_id, vehicle_id=vehicle_id,
                                   occasion=occasion).exists():
            continue
        due = occasion + timedelta(days=plan.offset_days)
        try:
            with transaction.atomic():  # a questionnaire an administrator changed may refuse these answers: skip
                followup = FollowUp.objects.create(
                    tenant=tenant, plan=plan, customer_id=customer_id, vehicle_id=vehicle_id, occasion=occasion,
                    due_on=due, visible_from=due - timedelta(days=plan.shows_days_before),
                    expires_on=due + timedelta(days=plan.expires_days_after), assignee_id=rng.choice(callers),
                    priority=plan.priority)
                _calls(followup, version, questions, zone, rng)
        except ValidationError:
            continue
        made += 1
    return made


def _at(day: date, zone: ZoneInfo, rng: random.Random) -> datetime:
    return datetime.combine(day, time(rng.randint(9, 17), rng.randrange(60)), tzinfo=zone)


def _calls(followup: FollowUp, version, questions: list[Question], zone: ZoneInfo, rng: random.Random) -> None:
    """One to three attempts on the due day and the days after, as a caller would have recorded them."""
    day = followup.due_on + timedelta(days=rng.choice([0, 0, 0, 1]))  # most on time, some a day late
    staff = followup.assignee
    while True:
        when = _at(day, zone, rng)
        roll = rng.random()
        if roll < 0.2 and followup.attempts + 1 < followup.plan.max_attempts:
            retry = _at(day + timedelta(days=1), zone, rng)
            _record(followup, staff, CallRecord(outcome=Outcome.NOT_REACHED, retry_at=retry, note="无人接听"), when)
            followup.refresh_from_db()
            day += timedelta(days=1)
            continue
        if roll < 0.25:
            _record(followup, staff, CallRecord(outcome=Outcome.WRONG_NUMBER, note="号码已停机"), when)
            return
        record = CallRecord(outcome=Outcome.COMPLETED, note=rng.choice(NOTES),
                            version_id=version.pk if version else None, answers=_answers(questions, rng))
        if roll > 0.9:
            record.feedback, record.feedback_text = "need", rng.choice(NEEDS)
        elif roll > 0.85:
            record.feedback, record.feedback_text = "grievance", rng.choice(GRIEVANCES)
        _record(followup, staff, record, when)
        return


def _answers(questions: list[Question], rng: random.Random) -> dict:
    values = {}
    for question in questions:
        if question.kind == Question.Kind.SCALE:
            values[question.pk] = str(max(question.scale_min, question.scale_max - rng.choice([0, 0, 1, 1, 2])))
        elif question.kind == Question.Kind.YES_NO:
            values[question.pk] = "yes" if rng.random() < 0.9 else "no"
        elif question.kind == Question.Kind.SINGLE:
            values[question.pk] = rng.choice(question.choice_list)
        elif question.kind == Question.Kind.MULTIPLE:
            values[question.pk] = rng.sample(question.choice_list, rng.randint(0, 2))
        elif rng.random() < 0.3:
            values[question.pk] = rng.choice(ANSWERS[Question.Kind.TEXT])
    return values


def _record(followup: FollowUp, staff, record: CallRecord, when: datetime) -> None:
    """The call as made at `when`: its rows carry that time, not the moment the demo was seeded."""
    call = calls.followup_call_record(followup=followup, staff=staff, record=record, now=when)
    FollowUpCall.objects.filter(pk=call.pk).update(created_at=when, updated_at=when)
    Answer.objects.filter(call=call).update(created_at=when, updated_at=when)
