"""The call workspace on real PostgreSQL: the next call, the outcomes and their rules, structured answers,
questionnaire versions, purchase intents, calling hours, and who sees which follow-ups."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import Department, Staff
from customers.models import Customer, Lead
from service import questionnaires, rules
from service.models import (
    Answer,
    ContactOptOut,
    FollowUp,
    FollowUpCall,
    FollowUpPlan,
    Question,
    QuestionnaireVersion,
    ServiceSettings,
)
from service.selectors import followups as followup_selectors
from service.services import calls
from service.services.calls import CallRecord

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 11, 20, 12, 0, tzinfo=SHANGHAI)  # inside the demo's calling hours (09:00–20:00)


def staff(username):
    return Staff.objects.select_related("user", "tenant").get(user__username=username)


def followup(customer_name, *, plan="维修后2日回访", due=None, assignee="demo.specialist", department=None,
             priority=2, occasion=None, retry_at=None):
    tenant = Staff.objects.get(user__username="demo.director").tenant
    customer = Customer.objects.get(name=customer_name)
    due = due or NOON.date()
    return FollowUp.objects.create(
        tenant=tenant, plan=FollowUpPlan.objects.get(name=plan), customer=customer,
        vehicle=customer.vehicles.first(), occasion=occasion or due - timedelta(days=2), due_on=due,
        visible_from=due - timedelta(days=1), expires_on=due + timedelta(days=5),
        assignee=staff(assignee) if assignee else None,
        department=Department.objects.get(name=department) if department else None,
        priority=priority, retry_at=retry_at)


def answers_for(version):
    """Answers to every question of a version (a valid completed call)."""
    values = {}
    for q in version.questions.all():
        choices = q.choice_list
        values[q.pk] = {"scale": str(q.scale_max), "yes_no": "yes", "single": choices[0] if choices else "",
                        "multiple": choices[:2], "text": "挺好的"}[q.kind]
    return values


def repair_version():
    return QuestionnaireVersion.objects.get(questionnaire__name="维修后回访问卷", number=1)


def record(f, username="demo.specialist", now=NOON, **fields):
    return calls.followup_call_record(followup=f, staff=staff(username), record=CallRecord(**fields), now=now)


# --- the next call ------------------------------------------------------------------------------


def test_next_call_takes_retries_then_own_due_by_priority_then_the_queue(scoped, user):
    FollowUp.objects.all().delete()
    specialist = staff("demo.specialist")
    queue = followup("赵敏", assignee=None, department="客服组", priority=1, due=NOON.date() - timedelta(days=3))
    normal = followup("李强", priority=2, due=NOON.date() - timedelta(days=1))
    high = followup("王芳", priority=1)
    retry = followup("北京宏达物流有限公司", plan="新车交车3日回访", retry_at=NOON - timedelta(minutes=5))
    later = followup("赵敏", plan="新车交车3日回访", retry_at=NOON + timedelta(hours=1))
    take = lambda: calls.followup_take_next(user=user("demo.specialist"), staff=specialist, tenant=scoped, now=NOON)  # noqa: E731

    order = []
    for _ in range(4):
        taken = take()
        order.append(taken.pk)
        FollowUp.objects.filter(pk=taken.pk).update(status=FollowUp.Status.DONE)
    assert order == [retry.pk, high.pk, normal.pk, queue.pk]
    queue.refresh_from_db()
    assert queue.assignee == specialist  # the queue's follow-up became the caller's
    assert take() is None  # the retry at 13:00 is not due yet
    assert later.pk not in order


def test_no_call_is_offered_outside_the_calling_hours(scoped, user):
    followup("王芳")
    evening = datetime(2026, 11, 20, 20, 30, tzinfo=SHANGHAI)
    assert calls.followup_take_next(user=user("demo.specialist"), staff=staff("demo.specialist"), tenant=scoped,
                                    now=evening) is None
    ServiceSettings.objects.update(calls_from=time(0), calls_until=time(0))  # around the clock
    assert calls.followup_take_next(user=user("demo.specialist"), staff=staff("demo.specialist"), tenant=scoped,
                                    now=evening) is not None


def test_the_analyst_is_offered_no_call(scoped, user):
    followup("王芳", assignee=None, department="客服组")
    analyst = user("demo.analyst")
    assert calls.followup_take_next(user=analyst, staff=analyst.staff, tenant=scoped, now=NOON) is None


# --- outcomes -----------------------------------------------------------------------------------


def test_completed_call_saves_structured_answers(scoped):
    f = followup("王芳")
    version = repair_version()
    call = record(f, outcome="completed", version_id=version.pk, answers=answers_for(version), note="满意")
    f.refresh_from_db()
    assert f.status == FollowUp.Status.DONE and f.closed_at == NOON
    rows = {a.question.kind: a for a in Answer.objects.filter(call=call).select_related("question")}
    assert rows["scale"].number == 5
    assert rows["yes_no"].number == 1
    assert rows["single"].choices == ["非常满意"]
    assert rows["text"].text == "挺好的"


def test_a_required_question_left_empty_is_refused_next_to_it_and_nothing_is_written(scoped):
    f = followup("王芳")
    version = repair_version()
    answers = answers_for(version)
    first = version.questions.order_by("order").first()
    answers[first.pk] = ""
    with pytest.raises(ValidationError) as refused:
        record(f, outcome="completed", version_id=version.pk, answers=answers)
    assert f"q_{first.pk}" in refused.value.message_dict
    assert not FollowUpCall.objects.filter(followup=f).exists()
    f.refresh_from_db()
    assert f.status == FollowUp.Status.OPEN


def test_a_scale_answer_outside_the_scale_is_refused(scoped):
    f = followup("王芳")
    version = repair_version()
    answers = answers_for(version)
    scale = version.questions.get(kind="scale")
    answers[scale.pk] = "9"
    with pytest.raises(ValidationError) as refused:
        record(f, outcome="completed", version_id=version.pk, answers=answers)
    assert "1" in refused.value.message_dict[f"q_{scale.pk}"][0]


def test_not_reached_retries_then_becomes_unreachable_after_the_plans_attempts(scoped):
    f = followup("王芳")
    assert f.plan.max_attempts == 3
    for attempt in (1, 2):
        record(f, outcome="not_reached", retry_at=NOON + timedelta(hours=attempt))
        f.refresh_from_db()
        assert (f.status, f.attempts, f.retry_at) == ("open", attempt, NOON + timedelta(hours=attempt))
    record(f, outcome="not_reached", retry_at=NOON + timedelta(hours=3))
    f.refresh_from_db()
    assert (f.status, f.attempts, f.retry_at) == ("unreachable", 3, None)
    assert list(f.calls.values_list("outcome", flat=True)) == ["not_reached"] * 3
    with pytest.raises(ValidationError):  # closed: no fourth attempt
        record(f, outcome="completed")


@pytest.mark.parametrize("retry_at,message", [
    (None, "Say when to call again."),
    (NOON - timedelta(minutes=1), "Choose a time in the future."),
    (datetime(2026, 11, 20, 22, 0, tzinfo=SHANGHAI), "within the calling hours"),
])
def test_a_retry_needs_a_future_time_within_the_calling_hours(scoped, retry_at, message):
    f = followup("王芳")
    with pytest.raises(ValidationError) as refused:
        record(f, outcome="not_reached", retry_at=retry_at)
    assert message in refused.value.message_dict["retry_at"][0]


def test_call_back_later_is_not_a_failed_attempt(scoped):
    f = followup("王芳")
    record(f, outcome="rescheduled", retry_at=NOON + timedelta(days=1))
    f.refresh_from_db()
    assert (f.status, f.attempts, f.retry_at) == ("open", 0, NOON + timedelta(days=1))


def test_wrong_number_closes_the_follow_up(scoped):
    f = followup("王芳")
    record(f, outcome="wrong_number", note="空号")
    f.refresh_from_db()
    assert f.status == FollowUp.Status.WRONG_NUMBER


def test_opt_out_needs_a_reason_and_closes_every_open_call_of_that_type(scoped):
    f = followup("王芳")
    other_same_type = followup("王芳", occasion=NOON.date() - timedelta(days=40))
    other_type = followup("王芳", plan="新车交车3日回访")
    with pytest.raises(ValidationError) as refused:
        record(f, outcome="opted_out")
    assert "opt_out_reason" in refused.value.message_dict
    record(f, outcome="opted_out", opt_out_reason="不需要售后回访")
    opt_out = ContactOptOut.objects.get(customer=f.customer, contact_type="service")
    assert opt_out.reason == "不需要售后回访" and opt_out.recorded_by == staff("demo.specialist")
    statuses = dict(FollowUp.objects.filter(pk__in=[f.pk, other_same_type.pk, other_type.pk])
                    .values_list("pk", "status"))
    assert statuses == {f.pk: "opted_out", other_same_type.pk: "opted_out", other_type.pk: "open"}


def test_a_purchase_intent_becomes_a_lead_in_the_sales_queue_once(scoped):
    f = followup("王芳")
    call = record(f, outcome="rescheduled", retry_at=NOON + timedelta(hours=2), feedback="purchase_intent",
                  feedback_text="想给家人再买一台SUV")
    lead = Lead.objects.get(pk=call.lead_id)
    assert lead.customer == f.customer and lead.department.name == "销售部" and lead.consultant is None
    assert "想给家人再买一台SUV" in lead.note
    again = record(f, outcome="completed", feedback="purchase_intent", feedback_text="预算三十万",
                   version_id=repair_version().pk, answers=answers_for(repair_version()))
    assert again.lead_id == lead.pk  # the open lead hears about it, no second lead
    assert lead.events.filter(note__contains="预算三十万").exists()


def test_feedback_needs_what_the_customer_said(scoped):
    with pytest.raises(ValidationError) as refused:
        record(followup("王芳"), outcome="wrong_number", feedback="complaint")
    assert "feedback_text" in refused.value.message_dict


# --- questionnaire versions ---------------------------------------------------------------------


def test_old_answers_keep_their_questions_when_a_new_version_is_published(scoped, client_as):
    v1 = repair_version()
    first = followup("王芳")
    record(first, outcome="completed", version_id=v1.pk, answers=answers_for(v1))
    v2 = QuestionnaireVersion.objects.create(tenant=scoped, questionnaire=v1.questionnaire, number=2,
                                             is_published=True)
    Question.objects.create(tenant=scoped, version=v2, order=1, kind="scale", text="新的问题：整体评价？")
    assert questionnaires.current_version(first.plan) == v2

    answered = Answer.objects.filter(call__followup=first).select_related("question")
    assert {a.question.version_id for a in answered} == {v1.pk}
    assert "您对本次维修保养服务的整体满意度如何？（1-5分）" in {a.question.text for a in answered}

    second = followup("王芳", occasion=NOON.date() - timedelta(days=30))
    page = client_as("demo.specialist").get(reverse("service:followup", args=[second.pk]))
    assert "新的问题：整体评价？" in page.content.decode()
    assert "故障是否已经完全排除？" not in page.content.decode()


# --- time zones ---------------------------------------------------------------------------------


def test_due_tomorrow_in_utc_is_due_today_in_shanghai_at_2330_utc(scoped, user):
    late = datetime(2026, 11, 20, 23, 30, tzinfo=ZoneInfo("UTC"))  # 07:30 on the 21st in Shanghai
    assert scoped.today(late).isoformat() == "2026-11-21"
    f = followup("王芳", due=late.date() + timedelta(days=1))
    ws = followup_selectors.workspace(user("demo.specialist"), {"tab": "today"}, tenant=scoped, now=late)
    assert f in ws.page.rows
    assert ws.counts["today"][0] == 1 and ws.counts["upcoming"][0] == 0


# --- pages and visibility -----------------------------------------------------------------------


def test_a_specialist_never_sees_another_specialists_follow_ups(scoped, client_as):
    colleague = Staff.objects.filter(assignments__position__title="客服专员（服务）").exclude(
        user__username="demo.specialist").first()
    today = scoped.today()
    theirs = followup("李强", assignee=colleague.user.username, due=today)
    mine = followup("赵敏", due=today)
    queue = followup("北京宏达物流有限公司", assignee=None, department="客服组", due=today)
    client = client_as("demo.specialist")
    listing = client.get(reverse("service:followups") + "?tab=today").content.decode()
    assert reverse("service:followup", args=[mine.pk]) in listing
    assert reverse("service:followup", args=[queue.pk]) in listing
    assert reverse("service:followup", args=[theirs.pk]) not in listing
    assert client.get(reverse("service:followup", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("service:followup", args=[theirs.pk]), {"outcome": "wrong_number"}).status_code == 404
    manager_listing = client_as("demo.manager").get(reverse("service:followups") + "?tab=today").content.decode()
    assert reverse("service:followup", args=[theirs.pk]) in manager_listing


def test_the_analyst_reads_masked_and_cannot_call(scoped, client_as):
    f = followup("王芳")
    client = client_as("demo.analyst")
    page = client.get(reverse("service:followup", args=[f.pk])).content.decode()
    assert "138****5678" in page and "13812345678" not in page and 'id="call-form"' not in page
    # the analyst may open the follow-up (masked) but not call: followup_for refuses the write with a 404
    assert client.post(reverse("service:followup", args=[f.pk]), {"outcome": "wrong_number"}).status_code == 404
    f.refresh_from_db()
    assert f.status == "open"


def test_the_call_form_shows_errors_next_to_the_fields(scoped, client_as):
    f = followup("王芳")
    response = client_as("demo.specialist").post(reverse("service:followup", args=[f.pk]), {
        "outcome": "not_reached", "retry_at": "", "feedback": "need", "version": repair_version().pk})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Say when to call again." in html and "Note what the customer said." in html
    assert html.count("invalid-feedback") >= 2
    assert not FollowUpCall.objects.filter(followup=f).exists()


def test_save_and_next_opens_the_next_customer(scoped, client_as):
    ServiceSettings.objects.update(calls_from=time(0), calls_until=time(0))
    FollowUp.objects.all().delete()
    first = followup("王芳", priority=1, due=scoped.today())
    second = followup("李强", priority=2, due=scoped.today())
    client = client_as("demo.specialist")
    taken = client.post(reverse("service:followups"))
    assert taken["Location"] == reverse("service:followup", args=[first.pk])
    version = repair_version()
    data = {"outcome": "completed", "version": version.pk, "then": "next", "note": "已完成"}
    for q in version.questions.all():
        data[f"q_{q.pk}"] = answers_for(version)[q.pk]
    done = client.post(reverse("service:followup", args=[first.pk]), data)
    assert done.status_code == 302 and done["Location"] == reverse("service:followup", args=[second.pk])
    page = client.get(done["Location"]).content.decode()
    assert "李强" in page and "Reached, completed: 王芳." in page
    first.refresh_from_db()
    assert first.status == "done"


def test_with_htmx_the_next_call_comes_in_the_same_response(scoped, client_as):
    """The boosted workspace form: taking the next call answers with its page and moves the address bar,
    instead of a redirect the browser would follow with a second request."""
    ServiceSettings.objects.update(calls_from=time(0), calls_until=time(0))
    FollowUp.objects.all().delete()
    first = followup("王芳", priority=1, due=scoped.today())
    second = followup("李强", priority=2, due=scoped.today())
    client = client_as("demo.specialist")
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_BOOSTED": "true", "HTTP_HX_TARGET": "main"}
    taken = client.post(reverse("service:followups"), **htmx)
    assert taken.status_code == 200 and taken["HX-Push-Url"] == reverse("service:followup", args=[first.pk])
    page = taken.content.decode()
    assert "王芳" in page and 'id="call-form"' in page and "invalid-feedback" not in page
    first.refresh_from_db()
    assert first.assignee.user.username == "demo.specialist"
    # saving with "then next" does the same
    data = {"outcome": "wrong_number", "version": repair_version().pk, "then": "next"}
    done = client.post(reverse("service:followup", args=[first.pk]), data, **htmx)
    assert done.status_code == 200 and done["HX-Push-Url"] == reverse("service:followup", args=[second.pk])
    assert "李强" in done.content.decode()
    first.refresh_from_db()
    assert first.status != "open"


def test_a_page_swapped_into_main_comes_without_the_head_and_the_navigation(scoped, client_as):
    """The boosted pages replace only `<main>` (HX-Target: main): the response is the title and the main part;
    asked for otherwise (a plain visit, htmx restoring the history) it is the whole page."""
    f = followup("王芳")
    client = client_as("demo.specialist")
    url = reverse("service:followup", args=[f.pk])
    swapped = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_BOOSTED="true", HTTP_HX_TARGET="main")
    page = swapped.content.decode()
    assert page.startswith("<title>王芳 · ") and '<main id="main"' in page and "王芳" in page
    assert "<nav" not in page.replace('<nav aria-label="breadcrumb">', "") and "<!doctype" not in page
    assert "Main navigation" not in page and 'id="call-form"' in page
    restore = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "main", "HTTP_HX_HISTORY_RESTORE_REQUEST": "true"}
    for headers in ({}, restore):
        whole = client.get(url, **headers).content.decode()
        assert whole.startswith("<!doctype html>") and "Main navigation" in whole and '<main id="main"' in whole


def test_the_customer_timeline_shows_the_call(scoped, client_as):
    f = followup("王芳")
    record(f, outcome="wrong_number", note="号码已停机")
    page = client_as("demo.specialist").get(reverse("customers:detail", args=[f.customer_id])).content.decode()
    assert "号码已停机" in page and "维修后2日回访" in page


def test_the_workspace_query_count_does_not_grow_with_rows(scoped, client_as, django_assert_max_num_queries):
    client = client_as("demo.specialist")
    client.get(reverse("service:followups"))  # warm the per-user caches
    for n in range(30):
        followup("赵敏", occasion=NOON.date() - timedelta(days=n + 10), due=scoped.today())
    with django_assert_max_num_queries(25):
        page = client.get(reverse("service:followups") + "?tab=today")
    assert page.content.decode().count("赵敏") >= 30


@pytest.mark.parametrize("after,suggested", [
    (datetime(2026, 11, 20, 12, 0), datetime(2026, 11, 20, 12, 0)),
    (datetime(2026, 11, 20, 7, 30), datetime(2026, 11, 20, 9, 0)),
    (datetime(2026, 11, 20, 21, 15), datetime(2026, 11, 21, 9, 0)),
])
def test_the_suggested_retry_time_falls_within_the_calling_hours(scoped, after, suggested):
    assert rules.first_calling_time(scoped, after.replace(tzinfo=SHANGHAI)) == suggested.replace(tzinfo=SHANGHAI)


def test_a_manager_pauses_a_plan_in_the_app_and_generation_skips_it(scoped, client_as):
    from service.services.generation import followups_generate

    plan = FollowUpPlan.objects.get(name="维修后2日回访")
    client_as("demo.specialist").post(reverse("service:plans"), {"plan": plan.pk, "active": "0"})
    plan.refresh_from_db()
    assert plan.is_active  # a specialist may look, not pause
    page = client_as("demo.specialist").get(reverse("service:plans")).content.decode()
    assert "维修后2日回访" in page and 'id="pause-' not in page

    manager = client_as("demo.manager")
    response = manager.post(reverse("service:plans"), {"plan": plan.pk, "active": "0"}, follow=True)
    assert "维修后2日回访 paused." in response.content.decode()
    plan.refresh_from_db()
    assert not plan.is_active
    assert "维修后2日回访" not in followups_generate(scoped).plans
    manager.post(reverse("service:plans"), {"plan": plan.pk, "active": "1"})
    plan.refresh_from_db()
    assert plan.is_active
    refused = manager.post(reverse("service:plans"), {"plan": "nope", "active": "0"}, follow=True)
    assert "This plan does not exist (any more)." in refused.content.decode()


def test_the_call_page_reads_the_same_rows_however_long_the_customer_history(scoped, client_as,
                                                                             django_assert_max_num_queries):
    """Each part of the call page is one prepared query: more visits, calls and follow-ups of the customer
    add rows, not queries."""
    first = followup("王芳")
    record(first, outcome="not_reached", retry_at=NOON + timedelta(hours=2), note="无人接听")
    client = client_as("demo.specialist")
    client.get(reverse("service:followup", args=[first.pk]))  # warm the per-user caches and the statements
    with django_assert_max_num_queries(17) as few:  # 17: the navigation asks whether the caller works in the club
        client.get(reverse("service:followup", args=[first.pk]))
    for n in range(12):
        other = followup("王芳", occasion=NOON.date() - timedelta(days=30 + n))
        record(other, outcome="wrong_number", note=f"第{n}次")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("service:followup", args=[first.pk])).content.decode()
    assert "无人接听" in page and "第11次" in page and "第1次" not in page  # the customer's last ten calls


def test_a_prepared_statement_gives_the_instances_the_queryset_gives(scoped):
    """`Prepared.instances`: the fields, the select_related() objects (a missing one is None) and the
    annotations of each row, as the ORM reads them."""
    from django.db.models import F

    from crm.prepared import Prepared

    with_vehicle, without = followup("王芳"), followup("赵敏", assignee=None, department="客服组")
    build = lambda customer, tenant: (FollowUp.objects.filter(customer=customer)  # noqa: E731
                                      .select_related("plan", "vehicle", "assignee__user")
                                      .annotate(plan_days=F("plan__offset_days")).order_by("id"))
    prepared = Prepared("test_followups", build)
    for f in (with_vehicle, without):
        expected = list(build(customer=f.customer_id, tenant=scoped.pk))
        got = prepared.instances(customer=f.customer_id, tenant=scoped.pk)
        assert [(g.pk, g.due_on, g.status, g.plan.name, g.plan_days, g.vehicle and g.vehicle.plate,
                 g.assignee and g.assignee.user.username) for g in got] == \
               [(e.pk, e.due_on, e.status, e.plan.name, e.plan_days, e.vehicle and e.vehicle.plate,
                 e.assignee and e.assignee.user.username) for e in expected]
    assert got[0].vehicle is None and got[0].assignee is None
    assert prepared.instances(customer=with_vehicle.customer_id, tenant=scoped.pk + 1000) == []
