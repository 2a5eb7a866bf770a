"""Complaints (投诉) on real PostgreSQL: the working-hour clocks on the Chinese calendar (a national holiday, a
make-up working day, a company's own exceptions), the service levels, pausing while waiting for the customer,
warnings and escalation along the demo org chart (specialist → manager → director, a major complaint to the
director at once with a django-guardian grant and a notice), closing the loop through the result-feedback
call, complaints opened by a follow-up call and by a low survey score, and who sees what."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from guardian.shortcuts import get_perms

from accounts.models import Department, Staff
from customers.models import Customer
from customers.validators import display_mobile
from service.models import (
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintPolicy,
    FollowUp,
    FollowUpPlan,
    ServiceSettings,
    Survey,
    WorkCalendarDay,
)
from service.services import calls, complaint_clocks, complaints
from service.services.calls import CallRecord
from service.sla import WorkCalendar

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
Status, Kind = Complaint.Status, ComplaintEvent.Kind


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def office(**kwargs) -> WorkCalendar:
    return WorkCalendar(opens=time(9), closes=time(18), **kwargs)


def staff(username: str) -> Staff:
    return Staff.objects.select_related("user", "tenant").get(user__username=username)


def register(customer="王芳", *, owner="demo.specialist", severity="normal", category="服务态度",
             opened=None, **fields) -> Complaint:
    actor = staff(owner) if owner else staff("demo.director")
    complaint = Complaint(customer=Customer.objects.get(name=customer), channel=fields.pop("channel", "phone"),
                          category=ComplaintCategory.objects.get(name=category) if category else None,
                          severity=severity, summary=fields.pop("summary", "等待时间过长"),
                          description="预约了九点，十二点才交车。", owner=staff(owner) if owner else None, **fields)
    return complaints.complaint_register(tenant=actor.tenant, actor=actor, complaint=complaint, now=opened)


def kinds(complaint) -> list[str]:
    return list(ComplaintEvent.objects.filter(complaint=complaint).order_by("id").values_list("kind", flat=True))


# --- the clock -----------------------------------------------------------------------------------------


def test_working_hours_skip_national_day_and_count_the_make_up_saturday():
    calendar = office()
    # Wednesday 30 September 2026, 17:00: one hour today, then the National Day holiday (1–7 October)
    assert calendar.add(at(date(2026, 9, 30), 17), timedelta(hours=3)) == at(date(2026, 10, 8), 11)
    # Friday 9 October 17:00 + 2 h: Saturday 10 October is a make-up working day (调休)
    assert calendar.add(at(date(2026, 10, 9), 17), timedelta(hours=2)) == at(date(2026, 10, 10), 10)
    # an ordinary weekend is skipped: Friday 16 October 17:00 + 2 h → Monday 19 October 10:00
    assert calendar.add(at(date(2026, 10, 16), 17), timedelta(hours=2)) == at(date(2026, 10, 19), 10)
    # opened at night: the clock starts when the office opens
    assert calendar.add(at(date(2026, 10, 12), 22), timedelta(hours=1)) == at(date(2026, 10, 13), 10)
    assert calendar.between(at(date(2026, 9, 30), 17), at(date(2026, 10, 8), 11)) == timedelta(hours=3)
    assert calendar.between(at(date(2026, 10, 1), 9), at(date(2026, 10, 7), 18)) == timedelta(0)


def test_company_exceptions_override_the_calendar_and_unknown_years_count_weekdays():
    assert office().add(at(date(2027, 1, 8), 17), timedelta(hours=2)) == at(date(2027, 1, 11), 10)  # Mon–Fri
    announced = office(exceptions={date(2027, 1, 11): False, date(2027, 1, 9): True})
    assert announced.add(at(date(2027, 1, 8), 17), timedelta(hours=2)) == at(date(2027, 1, 9), 10)
    assert announced.add(at(date(2027, 1, 9), 17), timedelta(hours=2)) == at(date(2027, 1, 12), 10)


def test_a_deadline_out_of_reach_is_capped_at_three_years():
    """A company that marks every day of 2027 off: the longest service level is due three years on, not an
    error when the complaint is registered."""
    all_off = office(exceptions={date(2027, 1, 1) + timedelta(days=n): False for n in range(4 * 366)})
    start = at(date(2027, 1, 4), 10)
    assert all_off.add(start, timedelta(hours=2000)) == start + timedelta(days=3 * 366)


def test_deadlines_follow_the_policy_of_the_category_else_of_the_severity(scoped):
    opened = at(date(2026, 11, 16), 10)  # a Monday
    normal = register(opened=opened)  # 服务态度: the tenant's any-category policy, 8 h and 40 h
    # 8 h on Monday from 10:00, then 9 h a day (09:00–18:00)
    assert (normal.response_due, normal.resolution_due) == (at(date(2026, 11, 16), 18), at(date(2026, 11, 20), 14))
    repair = register(opened=opened, category="维修质量")  # its own policy: 4 h and 24 h
    assert (repair.response_due, repair.resolution_due) == (at(date(2026, 11, 16), 14), at(date(2026, 11, 18), 16))
    assert repair.response_warn_at == at(date(2026, 11, 16), 13)  # 75 % of 4 h
    ComplaintPolicy.objects.all().delete()
    fallback = register(opened=opened)
    assert fallback.response_due == at(date(2026, 11, 16), 18)  # the built-in 8 h
    assert kinds(normal) == [Kind.OPENED]


def test_a_company_day_off_moves_the_deadline(scoped):
    WorkCalendarDay.objects.create(tenant=scoped, day=date(2026, 11, 17), is_workday=False, note="公司年会")
    complaint = register(opened=at(date(2026, 11, 16), 17))
    assert complaint.response_due == at(date(2026, 11, 18), 16)  # 1 h on Monday, Tuesday off, 7 h on Wednesday


def test_waiting_for_the_customer_stops_the_clocks(scoped):
    complaint = register(opened=at(date(2026, 11, 16), 9))
    specialist = staff("demo.specialist")
    complaints.complaint_wait_for_customer(complaint_id=complaint.pk, actor=specialist, text="等客户发照片",
                                           now=at(date(2026, 11, 16), 10))
    complaint.refresh_from_db()
    assert complaint.status == Status.WAITING and complaint.responded_at == at(date(2026, 11, 16), 10)
    # nothing escalates while waiting, however long
    complaint_clocks.complaints_watch(scoped, now=at(date(2026, 11, 30), 12))
    assert kinds(complaint) == [Kind.OPENED, Kind.WAITING]
    # the customer answers 12 working hours later (Monday 10:00 → Tuesday 13:00)
    complaints.complaint_resume(complaint_id=complaint.pk, actor=specialist, text="照片已收到",
                                now=at(date(2026, 11, 17), 13))
    complaint.refresh_from_db()
    assert complaint.status == Status.OPEN
    assert complaint.resolution_due == at(date(2026, 11, 23), 16)  # Friday 13:00 + 12 working hours
    assert kinds(complaint) == [Kind.OPENED, Kind.WAITING, Kind.RESUMED]


def test_a_complaint_that_fails_in_the_watcher_holds_back_no_other(scoped, monkeypatch, caplog):
    """One complaint whose warning cannot be given (here its notice fails) is logged and left as it was for
    the next run; the other complaints of the company are warned in the same run."""
    broken = register(opened=at(date(2026, 11, 16), 9))
    fine = register("李强", opened=at(date(2026, 11, 16), 9))
    notify = complaint_clocks.complaint_notify

    def failing(complaint, *args, **kwargs):
        if complaint.pk == broken.pk:
            raise ConnectionError("mail server gone")
        return notify(complaint, *args, **kwargs)

    monkeypatch.setattr(complaint_clocks, "complaint_notify", failing)
    first = complaint_clocks.complaints_watch(scoped, now=at(date(2026, 11, 16), 15, 1))
    assert (first.warned, first.failed) == (1, 1)
    assert kinds(fine) == [Kind.OPENED, Kind.WARNED] and kinds(broken) == [Kind.OPENED]
    broken.refresh_from_db()
    assert broken.response_warn_at is not None  # nothing half-written: still due
    assert f"complaint {broken.pk} failed" in caplog.text

    monkeypatch.setattr(complaint_clocks, "complaint_notify", notify)
    again = complaint_clocks.complaints_watch(scoped, now=at(date(2026, 11, 16), 15, 6))
    assert (again.warned, again.failed) == (1, 0) and kinds(broken) == [Kind.OPENED, Kind.WARNED]


# --- escalation along the org chart --------------------------------------------------------------------


def test_warning_then_breaches_climb_the_reporting_line_once_each(scoped, django_capture_on_commit_callbacks):
    complaint = register(opened=at(date(2026, 11, 16), 9))  # the specialist of 客服组
    with django_capture_on_commit_callbacks(execute=True):
        first = complaint_clocks.complaints_watch(scoped, now=at(date(2026, 11, 16), 15, 1))  # 75 % of 8 h: 15:00
    assert (first.warned, first.breached) == (1, 0)
    assert [m.to for m in mail.outbox] == [["demo-specialist@demo.example.com"]]
    assert complaint_clocks.complaints_watch(scoped, now=at(date(2026, 11, 16), 15, 2)).warned == 0  # once

    with django_capture_on_commit_callbacks(execute=True):
        # no first response by 17:00
        late = complaint_clocks.complaints_watch(scoped, now=at(date(2026, 11, 16), 17, 1))
    complaint.refresh_from_db()
    assert (late.breached, late.escalated) == (1, 1)
    assert complaint.escalated_to.user.username == "demo.manager"  # 客服专员 reports to 客服经理
    assert complaint.escalation == Complaint.Level.MANAGER
    assert mail.outbox[-1].to == ["demo-manager@demo.example.com"] and f"#{complaint.pk}" in mail.outbox[-1].subject
    assert complaint_clocks.complaints_watch(scoped, now=at(date(2026, 11, 16), 17, 2)).breached == 0

    complaints.complaint_respond(complaint_id=complaint.pk, actor=staff("demo.specialist"), text="已致歉",
                                 now=at(date(2026, 11, 17), 9))
    # no resolution within 40 h (Friday 13:00)
    complaint_clocks.complaints_watch(scoped, now=at(date(2026, 11, 20), 13, 1))
    complaint.refresh_from_db()
    assert complaint.escalation == Complaint.Level.DIRECTOR
    assert complaint.escalated_to.user.username == "demo.director"  # up the line: 客户管理经理 (vacant) → 总监
    assert complaint.response_breached_at and complaint.resolution_breached_at
    assert kinds(complaint) == [Kind.OPENED, Kind.WARNED, Kind.BREACHED, Kind.ESCALATED,
                                Kind.RESPONDED, Kind.WARNED, Kind.BREACHED, Kind.ESCALATED]


def test_a_major_complaint_goes_to_the_director_at_once_with_a_grant_outside_their_department(
        scoped, django_capture_on_commit_callbacks):
    # a sales consultant's complaint goes to the director over the complaints team (客服组), the CRM director:
    # 销售部 is outside their department
    sales = Department.objects.get(name="销售部")
    consultant = Staff.objects.filter(positions__department=sales, positions__title="销售顾问").order_by("pk")[0]
    with django_capture_on_commit_callbacks(execute=True):
        complaint = register(owner=consultant.user.username, severity="major", summary="新车漆面有划痕")
    director = Staff.objects.select_related("user").get(pk=complaint.escalated_to_id)
    assert complaint.escalation == Complaint.Level.DIRECTOR and director.user.username == "demo.director"
    assert set(get_perms(director.user, complaint)) == {"view_complaint", "change_complaint"}
    assert any(m.to == [director.user.email] and "新车漆面有划痕" in m.subject for m in mail.outbox)
    assert kinds(complaint) == [Kind.OPENED, Kind.ESCALATED]


def test_the_history_and_the_notices_are_worded_in_each_readers_language(scoped, client_as,
                                                                         django_capture_on_commit_callbacks):
    director, specialist = staff("demo.director"), staff("demo.specialist")
    type(director.user).objects.filter(pk=director.user.pk).update(language="zh-hans", email="zongjian@example.com")
    type(specialist.user).objects.filter(pk=specialist.user.pk).update(language="en")
    with django_capture_on_commit_callbacks(execute=True):
        complaint = register(severity="major")  # the specialist's; up to the director at once
    url = reverse("service:complaint", args=[complaint.pk])
    english = client_as("demo.specialist").get(url).content.decode().split('id="complaint-history"')[1]
    chinese = client_as("demo.director").get(url).content.decode().split('id="complaint-history"')[1]
    assert "Phone · Major · owner:" in english and "Major complaint → Director" in english
    assert "电话 · 重大 · 负责人：" in chinese and "重大投诉 → 总监" in chinese
    notice = next(m for m in mail.outbox if m.to == ["zongjian@example.com"])
    assert "重大投诉" in notice.body and "Major complaint" not in notice.body


def test_a_grant_lets_someone_outside_the_line_see_and_work_on_it(scoped, client_as):
    complaint = register()
    other = staff("demo.analyst")  # reads masked, works on nothing …
    response = client_as("demo.analyst").post(reverse("service:complaint", args=[complaint.pk]),
                                              {"action": "note", "note-text": "看看"})
    assert response.status_code == 404  # complaint_for refuses a write without change_complaint with a 404
    from django.contrib.auth.models import Permission
    from guardian.shortcuts import assign_perm

    other.user.user_permissions.add(Permission.objects.get(codename="change_complaint"))
    assign_perm("service.change_complaint", other.user, complaint)  # … until granted this complaint
    response = client_as("demo.analyst").post(reverse("service:complaint", args=[complaint.pk]),
                                              {"action": "note", "note-text": "已跟进"}, follow=True)
    assert "已跟进" in response.content.decode()
    # the list shows the granted complaint's customer in full, as its page does; the others stay masked
    listed = client_as("demo.analyst").get(reverse("service:complaints")).content.decode()
    row = listed.split(f'id="complaint-{complaint.pk}"')[1].split("</tr>")[0]
    assert display_mobile(complaint.customer.mobile) in row
    other_row = register(customer="李强")
    listed = client_as("demo.analyst").get(reverse("service:complaints")).content.decode()
    row = listed.split(f'id="complaint-{other_row.pk}"')[1].split("</tr>")[0]
    assert display_mobile(other_row.customer.mobile) not in row and "李强" in row


# --- closing the loop -----------------------------------------------------------------------------------


def test_resolving_needs_cause_action_and_result_and_queues_the_feedback_call(scoped):
    complaint = register(opened=at(date(2026, 11, 16), 9))
    specialist = staff("demo.specialist")
    with pytest.raises(ValidationError) as refused:
        complaints.complaint_resolve(complaint_id=complaint.pk, actor=specialist, root_cause="", action_taken="退款",
                                     result="  ")
    assert set(refused.value.message_dict) == {"root_cause", "result"}
    complaints.complaint_resolve(complaint_id=complaint.pk, actor=specialist, root_cause="排班不足",
                                 action_taken="增加人手", result="已致歉并赠送保养券", now=at(date(2026, 11, 18), 10))
    complaint.refresh_from_db()
    assert complaint.status == Status.RESOLVED and complaint.responded_at == at(date(2026, 11, 18), 10)
    call = complaint.feedback_followup
    assert call.plan.trigger == FollowUpPlan.Trigger.COMPLAINT and call.assignee == specialist
    assert call.status == FollowUp.Status.OPEN and call.customer_id == complaint.customer_id


def test_the_feedback_call_closes_or_reopens_it(scoped):
    specialist = staff("demo.specialist")
    complaint = register(opened=at(date(2026, 11, 16), 9))
    complaints.complaint_resolve(complaint_id=complaint.pk, actor=specialist, root_cause="排班不足",
                                 action_taken="增加人手", result="已致歉", now=at(date(2026, 11, 16), 12))
    call = Complaint.objects.get(pk=complaint.pk).feedback_followup
    with pytest.raises(ValidationError) as missing:
        calls.followup_call_record(followup=call, staff=specialist, record=CallRecord(outcome="completed"))
    assert "verdict" in missing.value.message_dict
    with pytest.raises(ValidationError) as unsaid:
        calls.followup_call_record(followup=call, staff=specialist,
                                   record=CallRecord(outcome="completed", verdict="no"))
    assert "feedback_text" in unsaid.value.message_dict
    calls.followup_call_record(followup=call, staff=specialist, now=at(date(2026, 11, 17), 10),
                               record=CallRecord(outcome="completed", verdict="no", note="客户觉得补偿不够"))
    complaint.refresh_from_db()
    assert complaint.status == Status.OPEN and complaint.reopened == 1 and complaint.resolved_at is None
    # waiting for the confirmation stopped the clocks: 12:00 Monday → 10:00 Tuesday is 7 working hours
    assert complaint.resolution_due == at(date(2026, 11, 23), 11)  # Friday 13:00 + 7 h
    complaints.complaint_resolve(complaint_id=complaint.pk, actor=specialist, root_cause="补偿标准不清",
                                 action_taken="加送一次保养", result="客户接受", now=at(date(2026, 11, 17), 15))
    second = Complaint.objects.get(pk=complaint.pk).feedback_followup
    assert second.pk != call.pk  # the first call is done: a new one
    calls.followup_call_record(followup=second, staff=specialist, now=at(date(2026, 11, 18), 10),
                               record=CallRecord(outcome="completed", verdict="yes"))
    complaint.refresh_from_db()
    assert complaint.status == Status.CLOSED and complaint.closed_at == at(date(2026, 11, 18), 10)
    assert kinds(complaint) == [Kind.OPENED, Kind.RESOLVED, Kind.REOPENED, Kind.RESOLVED, Kind.CLOSED]


def test_a_complaint_heard_on_a_call_opens_one_for_the_caller(scoped):
    specialist = staff("demo.specialist")
    followup = FollowUp.objects.get(customer__name="王芳", plan__name="维修后2日回访")
    call = calls.followup_call_record(followup=followup, staff=specialist, record=CallRecord(
        outcome="rescheduled", retry_at=at(date(2099, 1, 5), 10), feedback="complaint",
        feedback_text="上次保养后空调不制冷，要求尽快处理"))
    complaint = Complaint.objects.get(followup_call=call)
    assert complaint.channel == Complaint.Channel.FOLLOWUP and complaint.owner == specialist
    assert complaint.summary == "上次保养后空调不制冷，要求尽快处理" and complaint.category is None


def test_a_low_survey_score_opens_a_complaint_in_the_complaints_queue_and_a_high_one_does_not(scoped):
    from service.forms.surveys import SurveyForm
    from service.selectors import surveys as survey_selectors
    from service.services import surveys
    from tests.service.test_surveys import full_answers, invitation

    desk = Department.objects.get(name="客服组")
    assert ServiceSettings.objects.get().complaint_department == desk
    for overall, expected in (("1", 1), ("5", 0)):
        inv = invitation(scoped, customer="王芳" if overall == "1" else "李强")
        questions = survey_selectors.questions_of(inv)
        data = full_answers(inv, overall=overall)
        if overall == "1":
            data.update({f"q_{q.pk}": "1" for q in questions if q.kind == "scale" and q.measure != "recommend"})
        form = SurveyForm(data, questions=questions, submit=True)
        assert form.is_valid(), form.errors
        surveys.survey_response_save(invitation=inv, device="d", questions=questions, values=form.values(), submit=True)
        found = Complaint.objects.filter(survey_response__invitation=inv)
        assert found.count() == expected
    complaint = Complaint.objects.get(survey_response__invitation__customer__name="王芳")
    assert complaint.owner is None and complaint.department == desk and complaint.channel == "survey"
    assert complaint.summary.startswith("服务满意度调查: CSI")


def test_a_closed_complaint_queues_the_after_complaint_survey(scoped):
    from service.services import survey_sending

    survey = Survey.objects.get(name="服务满意度调查")
    Survey.objects.exclude(pk=survey.pk).update(is_active=False)
    survey.trigger, survey.delay_days, survey.sample_days = Survey.Trigger.COMPLAINT_CLOSED, 0, 0
    survey.save()
    specialist = staff("demo.specialist")
    complaint = register()
    complaints.complaint_resolve(complaint_id=complaint.pk, actor=specialist, root_cause="a", action_taken="b",
                                 result="c")
    complaints.complaint_confirm(complaint_id=complaint.pk, actor=specialist, satisfied=True)
    assert survey_sending.survey_invitations_queue(scoped).surveys[survey.name] == 1
    invitation = survey.invitations.get(occasion_key__startswith="complaint:")
    assert invitation.occasion_key == f"complaint:{complaint.pk}" and invitation.staff == specialist
    # recorded on the complaint page, the customer's answer completes the feedback call too
    assert Complaint.objects.get(pk=complaint.pk).feedback_followup.status == FollowUp.Status.DONE


# --- the pages --------------------------------------------------------------------------------------------


def test_register_from_the_page_with_errors_next_to_the_fields(scoped, client_as):
    client = client_as("demo.specialist")
    customer = Customer.objects.get(name="王芳")
    found = client.get(reverse("service:complaint_new"), {"q": "王芳"}).content.decode()
    assert f"?customer={customer.pk}" in found
    url = f"{reverse('service:complaint_new')}?customer={customer.pk}"
    page = client.post(url, {"customer": customer.pk, "channel": "walk_in", "severity": "normal", "summary": "",
                             "description": "客户到店投诉"}).content.decode()
    assert "This field is required." in page and not Complaint.objects.filter(description="客户到店投诉").exists()
    category = ComplaintCategory.objects.get(name="价格收费")
    response = client.post(url, {"customer": customer.pk, "channel": "walk_in", "severity": "normal",
                                  "category": category.pk, "summary": "收费与报价不符", "description": "客户到店投诉"})
    complaint = Complaint.objects.get(description="客户到店投诉")
    assert response["Location"] == reverse("service:complaint", args=[complaint.pk])
    assert complaint.owner == staff("demo.specialist") and complaint.department.name == "客服组"
    page = client.get(response["Location"]).content.decode()
    assert "收费与报价不符" in page and "Registered" in page


def test_actions_on_the_page_and_a_refused_resolution_keeps_the_state(scoped, client_as):
    complaint = register()
    client = client_as("demo.specialist")
    url = reverse("service:complaint", args=[complaint.pk])
    client.post(url, {"action": "respond", "respond-text": "已电话致歉"})
    assert Complaint.objects.get(pk=complaint.pk).status == Status.OPEN
    page = client.post(url, {"action": "resolve", "resolve-root_cause": "", "resolve-action_taken": "退款",
                             "resolve-result": "已退款"}).content.decode()
    assert "This field is required." in page and Complaint.objects.get(pk=complaint.pk).status == Status.OPEN
    client.post(url, {"action": "resolve", "resolve-root_cause": "报价系统错误", "resolve-action_taken": "退款",
                      "resolve-result": "已退款"})
    client.post(url, {"action": "confirm", "confirm-satisfied": "yes", "confirm-text": "满意"})
    done = Complaint.objects.get(pk=complaint.pk)
    assert done.status == Status.CLOSED
    page = client.get(url).content.decode()
    assert "报价系统错误" in page and "Customer confirmed, closed" in page
    assert 'value="resolve"' not in page and 'value="confirm"' not in page  # only a note is left to add


def test_the_list_filters_and_who_sees_what(scoped, client_as):
    mine = register(summary="我的投诉甲")
    queue = register(owner=None, summary="队列投诉乙", department=Department.objects.get(name="客服组"))
    sales = register(owner="demo.director", summary="总监的投诉丙", severity="major")
    complaint_clocks.complaints_watch(scoped, now=mine.resolution_due + timedelta(minutes=1))

    def listed(username, **params):
        page = client_as(username).get(reverse("service:complaints"), params).content.decode()
        return {c.summary for c in (mine, queue, sales) if c.summary in page}

    assert listed("demo.director") == {"我的投诉甲", "队列投诉乙", "总监的投诉丙"}
    assert listed("demo.specialist") >= {"我的投诉甲", "队列投诉乙"} and "总监的投诉丙" not in listed("demo.specialist")
    assert listed("demo.manager") >= {"我的投诉甲", "队列投诉乙"}
    assert listed("demo.analyst") == {"我的投诉甲", "队列投诉乙", "总监的投诉丙"}
    assert listed("demo.director", severity="major") == {"总监的投诉丙"}
    assert listed("demo.director", owner="none") == {"队列投诉乙"}
    assert listed("demo.specialist", owner="me") == {"我的投诉甲"}
    assert "我的投诉甲" in listed("demo.director", state="breached")
    assert listed("demo.director", category=ComplaintCategory.objects.get(name="维修质量").pk) == set()
    empty = client_as("demo.director").get(reverse("service:complaints"), {"channel": "online"}).content.decode()
    assert "No complaints match the filter." in empty
    # a specialist opening another's complaint gets a 404; the analyst reads it masked and may not act
    assert client_as("demo.specialist").get(reverse("service:complaint", args=[sales.pk])).status_code == 404
    analyst = client_as("demo.analyst").get(reverse("service:complaint", args=[mine.pk])).content.decode()
    assert "138****" in analyst or "****" in analyst
    assert 'name="action"' not in analyst


def test_the_list_opens_on_open_complaints_and_any_state_shows_all(scoped, client_as):
    running = register(summary="仍在处理的投诉")
    closed = register(summary="已经关闭的投诉")
    client = client_as("demo.director")
    client.post(reverse("service:complaint", args=[closed.pk]), {
        "action": "resolve", "resolve-root_cause": "沟通不足", "resolve-action_taken": "致歉",
        "resolve-result": "客户接受"})
    client.post(reverse("service:complaint", args=[closed.pk]), {
        "action": "confirm", "confirm-satisfied": "yes", "confirm-text": "满意"})
    assert Complaint.objects.get(pk=closed.pk).status == Status.CLOSED
    first = client.get(reverse("service:complaints")).content.decode()
    assert running.summary in first and closed.summary not in first
    state = first.split('name="state"')[1].split("</select>")[0]
    assert '<option value="unresolved" selected>' in state  # the default shows on the filter
    everything = client.get(reverse("service:complaints"), {"state": ""}).content.decode()  # "Any"
    assert running.summary in everything and closed.summary in everything
    assert '<option value="" selected>Any</option>' in everything.split('name="state"')[1].split("</select>")[0]


def test_the_list_filters_on_the_opening_day_on_the_tenants_clock(scoped, client_as):
    day = date(2026, 6, 15)
    late_evening = register(summary="深夜登记的投诉", opened=at(day, 23, 30))  # 15:30 UTC
    after_midnight = register(summary="零点后登记的投诉", opened=at(day + timedelta(days=1), 0, 30))  # 15th, UTC
    before = register(summary="前一天的投诉", opened=at(day - timedelta(days=1), 9))
    every = (late_evening, after_midnight, before)

    def listed(**params):
        page = client_as("demo.director").get(reverse("service:complaints"), params).content.decode()
        return {c.summary for c in every if c.summary in page}

    assert listed(opened_after=day, opened_before=day) == {"深夜登记的投诉"}
    assert listed(opened_after=day) == {"深夜登记的投诉", "零点后登记的投诉"}
    assert listed(opened_before=day) == {"深夜登记的投诉", "前一天的投诉"}
    # the list still opens on the complaints to resolve, and state= (any) with the days keeps the closed ones
    Complaint.objects.filter(pk=late_evening.pk).update(status=Status.CLOSED)
    assert listed(opened_after=day, opened_before=day) == set()
    assert listed(opened_after=day, opened_before=day, state="") == {"深夜登记的投诉"}
    page = client_as("demo.director").get(reverse("service:complaints"), {"opened_after": "2026-02-30"})
    assert page.status_code == 200 and "No complaints match the filter." in page.content.decode()
    assert 'name="opened_after"' in page.content.decode() and 'name="opened_before"' in page.content.decode()


def test_the_list_costs_the_same_queries_for_more_complaints(scoped, client_as, django_assert_max_num_queries):
    client = client_as("demo.manager")
    client.get(reverse("service:complaints"))
    for n in range(3):
        register(summary=f"投诉{n}")
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("service:complaints"))
    for n in range(30):
        register(summary=f"更多投诉{n}", owner=None, department=Department.objects.get(name="客服组"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("service:complaints"))


def test_the_customer_page_offers_a_complaint_and_lists_it_in_the_timeline(scoped, client_as):
    complaint = register(summary="配件迟迟不到", severity="major")
    customer = complaint.customer
    page = client_as("demo.specialist").get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert f"{reverse('service:complaint_new')}?customer={customer.pk}" in page
    assert f"#{complaint.pk} · 配件迟迟不到" in page and "Major" in page


def test_the_demo_seed_makes_complaints_in_every_state_once(scoped):
    from crm.demo.complaints import seed_complaints

    Complaint.objects.all().delete()
    made = seed_complaints(scoped)
    assert made == 36 and seed_complaints(scoped) == 0
    statuses = set(Complaint.objects.values_list("status", flat=True))
    assert statuses >= {Status.NEW, Status.OPEN, Status.WAITING, Status.CLOSED}
    assert Complaint.objects.filter(reopened__gt=0).exists()
    assert Complaint.objects.filter(escalation=Complaint.Level.DIRECTOR, severity="major").exists()
    assert not Complaint.objects.filter(status=Status.CLOSED, feedback_followup__status=FollowUp.Status.OPEN).exists()


def test_a_reopened_complaint_is_warned_and_escalated_again_and_a_dead_feedback_call_is_reported(scoped):
    specialist = staff("demo.specialist")
    complaint = register(opened=at(date(2026, 11, 16), 9))
    complaints.complaint_respond(complaint_id=complaint.pk, actor=specialist, text="已致歉",
                                 now=at(date(2026, 11, 16), 10))
    complaint_clocks.complaints_watch(scoped, now=at(date(2026, 11, 20), 13, 1))  # resolution missed: to the manager
    complaints.complaint_resolve(complaint_id=complaint.pk, actor=specialist, root_cause="a", action_taken="b",
                                 result="c", now=at(date(2026, 11, 20), 14))
    # one working hour waited: due Friday 14:00, past already
    complaints.complaint_confirm(complaint_id=complaint.pk, actor=specialist, satisfied=False, text="不满意",
                                 now=at(date(2026, 11, 20), 15))
    complaint.refresh_from_db()
    assert complaint.resolution_due == at(date(2026, 11, 20), 14) and complaint.resolution_warn_at is None
    complaint_clocks.complaints_watch(scoped, now=at(date(2026, 11, 23), 10, 1))
    complaint.refresh_from_db()
    assert complaint.escalation == Complaint.Level.DIRECTOR
    assert complaint.resolution_breached_at == complaint.resolution_due
    complaints.complaint_resolve(complaint_id=complaint.pk, actor=specialist, root_cause="a", action_taken="b",
                                 result="c", now=at(date(2026, 11, 23), 11))
    call = Complaint.objects.get(pk=complaint.pk).feedback_followup
    FollowUp.objects.filter(pk=call.pk).update(status=FollowUp.Status.UNREACHABLE)
    complaint_clocks.complaints_watch(scoped, now=at(date(2026, 11, 24), 9))
    complaint.refresh_from_db()
    assert complaint.status == Status.RESOLVED and complaint.feedback_followup is None
    assert kinds(complaint)[-1] == Kind.NO_ANSWER


def test_the_occasion_of_a_complaint_is_one_of_the_customers_visits(scoped, client_as):
    from customers.models import ServiceVisit

    customer = Customer.objects.get(name="王芳")
    visit = ServiceVisit.objects.create(tenant=scoped, customer=customer, opened_on=date(2026, 11, 10),
                                        visit_type="repair", amount=680)
    url = f"{reverse('service:complaint_new')}?customer={customer.pk}"
    client_as("demo.specialist").post(url, {
        "customer": customer.pk, "channel": "phone", "severity": "normal", "visit": visit.pk, "summary": "返修",
        "category": ComplaintCategory.objects.get(name="维修质量").pk, "description": "修完又坏了"})
    assert Complaint.objects.get(summary="返修").visit == visit
