"""The follow-up report (回访报告) on real PostgreSQL: rollups against the raw rows, the KPI formulas (with the
on-time edge of a follow-up closed after midnight in the company's time zone), who sees what, filter errors,
the export, and a query count that does not grow with the data."""

import io
from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from analytics.models import AnswerDay, AnswerMonth, FollowUpDay, FollowUpMonth
from analytics.selectors.followups import split_period
from analytics.services.followup_rollups import followup_rollups_refresh
from service.models import FollowUpPlan
from tests.analytics.fixtures import PERIOD, Data, at, seed_march

pytestmark = pytest.mark.django_db
URL = "/reports/followups/"


@pytest.fixture
def march(demo, acme, in_scope):
    """March 2025 in demo (seed_march) and one done follow-up in acme, rollups built for the month."""
    with in_scope(acme), timezone.override("Asia/Shanghai"):
        other = seed_march(acme)
        FollowUpPlan.objects.filter(pk=other.plan.pk).update(name="艾克美专用回访计划")
        followup_rollups_refresh(tenant=acme, start=date(2025, 3, 1), end=date(2025, 3, 31))
    with in_scope(demo), timezone.override("Asia/Shanghai"):
        data = seed_march(demo)
        followup_rollups_refresh(tenant=demo, start=date(2025, 3, 1), end=date(2025, 3, 31))
    return data


def totals(queryset):
    return queryset.aggregate(**{name: Sum(name) for name in ("due", "done", "on_time", "calls", "reached",
                                                               "complaint", "need", "proposals")})


def test_rollup_matches_raw_rows(march, demo, in_scope):
    with in_scope(demo):
        figures = totals(FollowUpDay.objects.filter(day__range=(date(2025, 3, 1), date(2025, 3, 31))))
        assert figures == {"due": 5, "done": 3, "on_time": 2, "calls": 4, "reached": 3, "complaint": 1, "need": 1,
                           "proposals": 2}
        # follow-ups count on their due day, by their assignee; calls on the day of the call, by the caller
        a_day = FollowUpDay.objects.get(day=date(2025, 3, 10), staff=march.specialist)
        assert (a_day.due, a_day.done, a_day.on_time, a_day.calls, a_day.reached) == (1, 1, 1, 1, 1)
        assert FollowUpDay.objects.get(day=date(2025, 3, 9), staff=march.specialist).calls == 1
        late = FollowUpDay.objects.get(day=date(2025, 3, 10), staff=march.colleague)
        assert (late.due, late.done, late.on_time) == (1, 1, 0)
        queue = FollowUpDay.objects.get(day=date(2025, 3, 12), staff=None)
        assert (queue.due, queue.done, queue.department_id) == (1, 0, march.desk.pk)
        answers = {(row.question.kind, row.value): row.count for row in AnswerDay.objects.select_related("question")}
        assert answers == {("scale", "4"): 1, ("scale", "2"): 1, ("yes_no", "1"): 1, ("yes_no", "0"): 1,
                           ("single", "满意"): 1, ("single", "一般"): 1}
        # acme's rows stay acme's
        assert not FollowUpDay.objects.filter(plan__name="艾克美专用回访计划").exists()


def test_refresh_is_idempotent_and_follows_changes(march, demo, in_scope):
    with in_scope(demo), timezone.override("Asia/Shanghai"):
        before = totals(FollowUpDay.objects.all())
        followup_rollups_refresh(tenant=demo, start=date(2025, 3, 1), end=date(2025, 3, 31))
        assert totals(FollowUpDay.objects.all()) == before
        # C is reassigned to the colleague and completed late: the specialist's row loses it
        type(march.c).objects.filter(pk=march.c.pk).update(assignee=march.colleague, status="done",
                                                             closed_at=at(14, 9))
        followup_rollups_refresh(tenant=demo, start=date(2025, 3, 12), end=date(2025, 3, 12))
        assert not FollowUpDay.objects.filter(day=date(2025, 3, 12), staff=march.specialist).exists()
        moved = FollowUpDay.objects.get(day=date(2025, 3, 12), staff=march.colleague)
        assert (moved.due, moved.done, moved.on_time) == (1, 1, 0)


def test_month_rows_follow_their_days(march, demo, in_scope):
    with in_scope(demo), timezone.override("Asia/Shanghai"):
        month = FollowUpMonth.objects.filter(month=date(2025, 3, 1))
        assert totals(month) == totals(FollowUpDay.objects.all())
        assert sum(AnswerMonth.objects.values_list("count", flat=True)) == 6
        # one day refreshed after a change: its month is summed again
        type(march.c).objects.filter(pk=march.c.pk).update(status="done", closed_at=at(12, 9))
        followup_rollups_refresh(tenant=demo, start=date(2025, 3, 12), end=date(2025, 3, 12))
        assert totals(month)["done"] == 4 == totals(FollowUpDay.objects.all())["done"]


@pytest.mark.parametrize("start,end,days,months", [
    (date(2025, 3, 1), date(2025, 3, 31), [], (date(2025, 3, 1), date(2025, 3, 1))),
    (date(2025, 3, 5), date(2025, 3, 20), [(date(2025, 3, 5), date(2025, 3, 20))], None),
    (date(2025, 2, 15), date(2025, 4, 10), [(date(2025, 2, 15), date(2025, 2, 28)), (date(2025, 4, 1),
                                                                                      date(2025, 4, 10))],
     (date(2025, 3, 1), date(2025, 3, 1))),
    (date(2024, 11, 22), date(2025, 11, 22), [(date(2024, 11, 22), date(2024, 11, 30)),
                                              (date(2025, 11, 1), date(2025, 11, 22))],
     (date(2024, 12, 1), date(2025, 10, 1))),
    (date(2025, 3, 31), date(2025, 4, 1), [(date(2025, 3, 31), date(2025, 4, 1))], None),
])
def test_split_period(start, end, days, months):
    assert split_period(start, end) == (days, months)


@pytest.mark.parametrize("params,due,calls", [
    ({"date_from": "2025-02-15", "date_to": "2025-04-10"}, 5, 4),  # edge days of February and April, March whole
    ({"date_from": "2025-03-10", "date_to": "2025-03-10"}, 2, 1),  # day rows only: A and B due, A's last call
    ({"date_from": "2025-03-11", "date_to": "2025-05-31"}, 3, 2),  # March's last days, then April and May whole
])
def test_periods_mixing_days_and_months(march, client_as, params, due, calls):
    report = client_as("demo.director").get(URL, params).context["report"]
    assert (report.total.due, report.total.calls) == (due, calls)
    assert sum(line.due for line in report.by_staff) == due == sum(line.due for line in report.by_plan)


def test_rebuild_command(march, demo, in_scope):
    with in_scope(demo):
        FollowUpDay.objects.all().delete()
    out = io.StringIO()
    call_command("rebuild_followup_rollups", "--tenant", "demo", "--from", "2025-03-01", "--to", "2025-03-31",
                 stdout=out)
    assert "demo: 2025-03-01 to 2025-03-31" in out.getvalue()
    with in_scope(demo):
        assert totals(FollowUpDay.objects.all())["due"] == 5


def test_formulas_on_the_page(march, client_as):
    response = client_as("demo.director").get(URL, PERIOD)
    report = response.context["report"]
    total = report.total
    assert (total.due, total.done, total.on_time, total.calls, total.reached) == (5, 3, 2, 4, 3)
    assert total.completion_rate == pytest.approx(3 / 5)
    assert total.on_time_rate == pytest.approx(2 / 3)  # B closed 00:30 the day after: late
    assert total.contact_rate == pytest.approx(3 / 4)
    page = response.content.decode()
    assert "follow-ups completed (status done) ÷ follow-ups due in the period" in page
    assert "calls that reached the customer" in page
    assert "60.0%" in page and "66.7%" in page and "75.0%" in page
    # answers per question: the scale's mean and distribution, choices counted, the latest text answers
    scale = next(r for r in report.questions if r.question.kind == "scale")
    assert scale.total == 2 and scale.mean == pytest.approx(3.0)
    assert {c.label: c.count for c in scale.choices} == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 0}
    assert "服务很好，等待时间有点长" in page
    # feedback categories and proposals, linked to the follow-up
    assert dict(report.feedback)["Complaint"] == 1
    assert "建议把第三题改为开放题" in page
    assert reverse("service:followup", args=[march.a.pk]) in page
    assert "艾克美专用回访计划" not in page


def test_specialist_sees_only_their_own_figures(march, client_as):
    report = client_as("demo.specialist").get(URL, PERIOD).context["report"]
    assert [line.key for line in report.by_staff] == [march.specialist.pk]
    assert (report.total.due, report.total.done, report.total.calls) == (2, 1, 2)  # A and C, not the queue's D
    assert [p.call.proposal for p in report.proposals.rows] == ["建议把第三题改为开放题"]
    assert all(r.total == 1 for r in report.questions)
    staff_choices = dict(report.filterset.form.fields["staff"].choices)
    assert set(staff_choices) - {""} == {march.specialist.pk}


def test_manager_sees_their_subtree_and_queue(march, client_as):
    report = client_as("demo.manager").get(URL, PERIOD).context["report"]
    keys = {line.key for line in report.by_staff}
    assert keys == {march.specialist.pk, march.colleague.pk, None}  # not 销售部's seller
    assert report.total.due == 4
    assert [p.call.proposal for p in report.proposals.rows] == ["建议把第三题改为开放题"]


def test_director_and_analyst_see_everything(march, client_as):
    for username in ("demo.director", "demo.analyst"):
        report = client_as(username).get(URL, PERIOD).context["report"]
        assert report.total.due == 5
        assert march.seller.pk in {line.key for line in report.by_staff}


def test_other_tenant_never_appears(march, client_as, demo):
    response = client_as("acme.director").get(URL, PERIOD)
    page = response.content.decode()
    assert "艾克美专用回访计划" in page
    assert demo.name not in page
    assert response.context["report"].total.due == 5  # acme's own five
    # a demo plan or staff id in acme's filter is refused, not counted
    bad = client_as("acme.director").get(URL, {**PERIOD, "plan": march.plan.pk})
    assert "plan" in bad.context["report"].filterset.form.errors


@pytest.mark.parametrize("params,field,message", [
    ({"date_from": "2025-13-01", "date_to": "2025-03-31"}, "date_from", "Enter a valid date."),
    ({"date_from": "2025-03-31", "date_to": "2025-03-01"}, "date_to", "The end of the period comes before its start."),
    ({"date_from": "2020-01-01", "date_to": "2025-03-01"}, "date_to", "Choose a period of at most two years."),
    ({**PERIOD, "staff": "abc"}, "staff", "Select a valid choice."),
    ({"date_from": "0001-01-01", "date_to": "0001-01-31"}, "date_from", "Enter a date between 1900 and 2100."),
    ({"date_from": "9999-12-01", "date_to": "9999-12-31"}, "date_to", "Enter a date between 1900 and 2100."),
])
def test_filter_errors_show_next_to_the_field(march, client_as, params, field, message):
    response = client_as("demo.director").get(URL, params)
    assert response.status_code == 200
    assert message in response.context["report"].filterset.form.errors[field][0]
    page = response.content.decode()
    assert message.replace("'", "&#x27;") in page and "is-invalid" in page
    assert "Correct the filters to see the report." in page
    # the export of invalid filters goes back to the page
    export = client_as("demo.director").get(reverse("analytics:followups_export"), params)
    assert export.status_code == 302 and export["Location"].startswith(URL)


def test_default_period_is_the_current_month(client_as, demo):
    report = client_as("demo.director").get(URL).context["report"]
    today = demo.today()
    assert report.start == today.replace(day=1) and report.end.month == today.month and report.end.day >= 28


def test_empty_period(client_as):
    page = client_as("demo.director").get(URL, {"date_from": "2001-01-01", "date_to": "2001-01-31"}).content.decode()
    assert "No follow-ups were due and no calls were made in this period." in page


def test_export(march, client_as):
    response = client_as("demo.director").get(reverse("analytics:followups_export"), PERIOD)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    by_staff, by_plan = book.worksheets
    staff_rows = [[c.value for c in row] for row in by_staff.iter_rows(min_row=3)]
    names = [row[0] for row in staff_rows]
    assert march.specialist.user.display_name in " ".join(names)  # Chinese names intact
    plan_rows = {row[0].value: row for row in by_plan.iter_rows(min_row=3)}
    line = plan_rows["维修后2日回访"]
    assert [c.value for c in line[1:3]] == [5, 3]
    assert line[3].value == pytest.approx(0.6) and line[3].number_format == "0.0%"
    # the specialist's export has only their own line
    mine = load_workbook(io.BytesIO(client_as("demo.specialist").get(
        reverse("analytics:followups_export"), PERIOD).content)).worksheets[0]
    assert [row[0].value for row in mine.iter_rows(min_row=3)][:-1] == [names[0]] or len(
        list(mine.iter_rows(min_row=3))) == 2


def test_export_cells_are_formula_safe(march, client_as, demo, in_scope):
    with in_scope(demo):
        FollowUpPlan.objects.filter(pk=march.plan.pk).update(name="=HYPERLINK(\"http://evil\")")
    response = client_as("demo.director").get(reverse("analytics:followups_export"), PERIOD)
    by_plan = load_workbook(io.BytesIO(response.content)).worksheets[1]
    cell = next(row[0] for row in by_plan.iter_rows(min_row=3) if str(row[0].value).startswith("="))
    assert cell.data_type == "s"


def test_query_count_does_not_grow_with_the_data(march, client_as, demo, in_scope):
    client = client_as("demo.manager")
    client.get(URL, PERIOD)  # warm the per-process staff directory
    with in_scope(demo), timezone.override("Asia/Shanghai"):
        followup_rollups_refresh(tenant=demo, start=date(2025, 3, 1), end=date(2025, 3, 1))  # not cached yet
    with CaptureQueriesContext(connection) as small:
        client.get(URL, PERIOD)
    with in_scope(demo), timezone.override("Asia/Shanghai"):
        more = Data(demo)
        more.occasion = 1000  # after seed_march's
        for day in range(1, 28):
            followup = more.followup(date(2025, 3, day), assignee=more.colleague, department=more.desk)
            more.call(followup, at(day, 11), "completed", proposal=f"第{day}条建议",
                      answers={"scale": 5, "text": f"意见{day}"})
        followup_rollups_refresh(tenant=demo, start=date(2025, 3, 1), end=date(2025, 3, 31))
    with CaptureQueriesContext(connection) as large:
        response = client.get(URL, PERIOD)
    assert response.context["report"].total.due > 30
    assert len(large) == len(small), [q["sql"][:120] for q in large.captured_queries]


def test_figures_are_cached_until_the_next_refresh(march, client_as, demo, in_scope):
    client = client_as("demo.director")
    first = client.get(URL, PERIOD).content.decode()
    with CaptureQueriesContext(connection) as again:
        second = client.get(URL, PERIOD).content.decode()
    assert not any("analytics_followup" in q["sql"] for q in again.captured_queries)  # the cached sections
    assert "60.0%" in second and second.count("<tr>") == first.count("<tr>")
    # a completed follow-up shows once the rollups are refreshed, not before
    with in_scope(demo):
        type(march.c).objects.filter(pk=march.c.pk).update(status="done", closed_at=at(12, 9))
    assert "60.0%" in client.get(URL, PERIOD).content.decode()
    with in_scope(demo), timezone.override("Asia/Shanghai"):
        followup_rollups_refresh(tenant=demo, start=date(2025, 3, 12), end=date(2025, 3, 12))
    assert "80.0%" in client.get(URL, PERIOD).content.decode()
    # another user who may see less is not served the director's figures
    assert client_as("demo.specialist").get(URL, PERIOD).context["report"].total.due == 2
    assert "80.0%" not in client_as("demo.specialist").get(URL, PERIOD).content.decode()
