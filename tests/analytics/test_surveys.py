"""The survey results (满意度调查结果) on real PostgreSQL: the rollups against the raw rows, the domain.md formulas
(response rate, CSI, CSAT, NPS with promoters, passives and detractors) on the page, the manufacturer's results
side by side, the trend by month across day and month rows, who sees what, the verbatims, the export, and a
query count that does not grow with the data."""

import io
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import Department
from analytics import tasks
from analytics.models import RollupState, SurveyAnswerDay, SurveyDay, SurveyMonth
from analytics.selectors.surveys import survey_rollups_recent_range
from analytics.services.survey_rollups import survey_rollups_refresh
from service.models import Survey
from tests.analytics.fixtures_surveys import SALES, Invitations, staff_of

pytestmark = pytest.mark.django_db
URL = "/reports/surveys/"
MARCH = {"date_from": "2025-03-01", "date_to": "2025-03-31"}


@pytest.fixture
def march(demo, acme, in_scope):
    """Occasions of March 2025 (and one of 28 February) in demo; one answered invitation in acme.

    advisor A: answered (satisfaction 5, recommend 10, a written answer) and (3, 6); one sent, one expired, one
    failed and one pending (these two never reached the customer); advisor B: (4, 8); a seller on the sales
    survey: (2, 3); the 客服组 queue (no advisor): (1, 0); A on 28 February: (5, 9). The manufacturer: A on
    10 March, CSI 80, recommend 10, with a comment."""
    with in_scope(acme):
        Invitations(acme).answer(date(2025, 3, 3), staff=staff_of("服务顾问"), satisfaction=1, recommend=0,
                             text="艾克美客户的意见")
        survey_rollups_refresh(tenant=acme, start=date(2025, 2, 1), end=date(2025, 3, 31))
    with in_scope(demo):
        r = Invitations(demo)
        r.a, r.b, r.seller = staff_of("服务顾问", 0), staff_of("服务顾问", 1), staff_of("销售顾问")
        r.desk = Department.objects.get(name="客服组")
        r.answer(date(2025, 3, 5), staff=r.a, satisfaction=5, recommend=10, text="等待时间太长了")
        r.answer(date(2025, 3, 6), staff=r.a, satisfaction=3, recommend=6)
        for day, status in ((7, "sent"), (8, "expired"), (9, "failed"), (10, "pending")):
            r.invite(date(2025, 3, day), staff=r.a, status=status)
        r.answer(date(2025, 3, 20), staff=r.b, satisfaction=4, recommend=8)
        r.answer(date(2025, 3, 25), staff=r.seller, satisfaction=2, recommend=3, survey=SALES)
        r.answer(date(2025, 3, 15), staff=None, department=r.desk, satisfaction=1, recommend=0)
        r.answer(date(2025, 2, 28), staff=r.a, satisfaction=5, recommend=9)
        r.manufacturer(date(2025, 3, 10), staff=r.a, csi=80, recommend=10, satisfaction=5, comment="厂家：接待热情")
        survey_rollups_refresh(tenant=demo, start=date(2025, 2, 1), end=date(2025, 3, 31))
    return r


def page(client, params=MARCH) -> str:
    response = client.get(URL, params)
    assert response.status_code == 200
    return response.content.decode()


def test_rollups_match_the_raw_rows(march, demo, in_scope):
    with in_scope(demo):
        a = SurveyDay.objects.filter(staff=march.a, source="ours", day__month=3)
        assert sum(row.invited for row in a) == 4  # answered twice, sent, expired; not the failed or pending
        assert sum(row.answered for row in a) == 2
        assert SurveyDay.objects.get(staff=march.a, source="oem", day__month=3).csi_sum == 80
        march_row = SurveyMonth.objects.get(staff=march.a, source="ours", month=date(2025, 3, 1))
        assert (march_row.invited, march_row.answered, march_row.promoters, march_row.detractors) == (4, 2, 1, 1)
        # drafts never count; the answers per question only of submitted responses
        satisfaction = SurveyAnswerDay.objects.filter(question__measure="satisfaction", day__month=3)
        assert sorted(int(row.value) for row in satisfaction for _n in range(row.count)) == [1, 2, 3, 4, 5]


def test_the_director_sees_the_formulas_applied(march, client_as):
    html = page(client_as("demo.director"))
    # 5 responses of 7 invitations that reached the customer
    assert 'id="kpi-response-rate">71.4%' in html
    # CSI: the mean of 85, 65, 75, 50 (sales survey: its own weights) and 45
    assert 'id="kpi-csi">64.0' in html
    # CSAT: 5 and 4 of five satisfaction answers
    assert 'id="kpi-csat">40.0%' in html
    # NPS: one promoter (10), one passive (8), three detractors (6, 3, 0): (1 − 3) / 5
    assert 'id="kpi-nps">-40.0' in html
    assert "promoters 20.0% · passives 20.0% · detractors 60.0%" in html
    assert "NPS = % promoters (9–10) − % detractors (0–6)" in html  # the formulas are on the page
    # the manufacturer's figures next to ours
    assert 'id="kpi-csi-manufacturer">Manufacturer: 80.0' in html


def test_lines_per_advisor_department_and_survey(march, client_as):
    html = page(client_as("demo.director"))
    by_staff = html.split('id="by-staff"')[1].split("</table>")[0]
    a_line = by_staff.split(march.a.user.get_full_name() or march.a.user.username)[1].split("</tr>")[0]
    cells = [cell.split(">")[-1] for cell in a_line.split("</td>")[:-1]]
    # invited, responses, rate, CSI, CSAT, NPS, P/P/D, then the manufacturer's responses, CSI, NPS
    assert cells[1:7] == ["4", "2", "50.0%", "75.0", "50.0%", "0.0"]
    assert cells[8:11] == ["1", "80.0", "100.0"]
    by_department = html.split('id="by-department"')[1].split("</table>")[0]
    assert "售后服务部" in by_department and "销售部" in by_department and "客服组" in by_department
    by_survey = html.split('id="by-survey"')[1].split("</table>")[0]
    assert "服务满意度调查" in by_survey and "销售满意度调查" in by_survey


def test_answers_per_question_and_what_customers_said(march, client_as):
    html = page(client_as("demo.director"))
    answers = html.split('id="answers"')[1]
    assert "您对本次维修保养服务的总体满意度如何？" in answers
    verbatims = html.split('id="verbatims"')[1].split("</table>")[0]
    assert "等待时间太长了" in verbatims and "您对我们还有什么意见或建议？" in verbatims
    assert "厂家：接待热情" in verbatims and "Manufacturer" in verbatims
    assert "艾克美客户的意见" not in html  # another tenant's


def test_trend_by_month_reads_day_rows_for_the_edges(march, client_as):
    html = page(client_as("demo.director"), {"date_from": "2025-02-28", "date_to": "2025-03-31"})
    by_month = html.split('id="by-month"')[1].split("</table>")[0]
    assert "2025-02" in by_month and "2025-03" in by_month
    assert 'id="kpi-response-rate">75.0%' in html  # 28 February's answered invitation added: 6 of 8
    assert 'data-chart="survey-trend"' in html and 'id="survey-trend"' in html


def test_a_period_without_rows_at_its_edges_reads_the_month_rows(march, client_as):
    """2–30 March: no occasion on the 1st or the 31st, so March's month row gives the same figures as its days;
    from the 6th, the 5th's answer is left out and the day rows are read."""
    client = client_as("demo.director")

    def figures_query(params):
        with CaptureQueriesContext(connection) as queries:
            html = page(client, params)
        grouped = [q["sql"] for q in queries.captured_queries if "GROUPING SETS" in q["sql"]]
        assert len(grouped) == 1
        return html, grouped[0]

    html, sql = figures_query({"date_from": "2025-03-02", "date_to": "2025-03-30"})
    assert 'id="kpi-response-rate">71.4%' in html  # as the whole of March
    assert "analytics_surveymonth" in sql and "analytics_surveyday" not in sql
    html, sql = figures_query({"date_from": "2025-03-06", "date_to": "2025-03-30"})
    assert 'id="kpi-response-rate">66.7%' in html  # 4 answered of the 6 reached from the 6th on
    assert "analytics_surveyday" in sql and "analytics_surveymonth" not in sql


def test_each_role_sees_its_share(march, client_as, demo, in_scope):
    # the surveys are run by 客服组: its manager and its specialists see all of their results, the advisors'
    # and the consultants' customers included
    for username in ("demo.manager", "demo.specialist"):
        html = page(client_as(username))
        assert 'id="kpi-csi">64.0' in html and "等待时间太长了" in html, username
    # the analyst reads everything
    assert 'id="kpi-csi">64.0' in page(client_as("demo.analyst"))
    # an advisor sees only their own occasions (A: 85 and 65), the consultant only theirs (50)
    assert 'id="kpi-csi">75.0' in page(client_as(march.a.user.username))
    assert 'id="kpi-csi">50.0' in page(client_as(march.seller.user.username))
    # a programme run by another team: the manager of 客服组 is back to their queue's occasion
    with in_scope(demo):
        Survey.objects.update(department=Department.objects.get(name="售后服务部"))
    html = page(client_as("demo.manager"))
    assert 'id="kpi-response-rate">100.0%' in html and 'id="kpi-csi">45.0' in html and 'id="kpi-nps">-100.0' in html
    assert "等待时间太长了" not in html
    assert 'id="report-empty"' in page(client_as("demo.specialist"))  # no occasion of their own


def test_filters_by_survey_and_advisor(march, client_as, demo, in_scope):
    client = client_as("demo.director")
    with in_scope(demo):
        sales = Survey.objects.get(name=SALES)
    html = page(client, {**MARCH, "survey": sales.pk})
    assert 'id="kpi-csi">50.0' in html and 'id="kpi-nps">-100.0' in html
    html = page(client, {**MARCH, "staff": march.b.pk})
    assert 'id="kpi-csi">75.0' in html


def test_bad_filters_and_an_empty_period(march, client_as):
    client = client_as("demo.director")
    html = page(client, {"date_from": "2025-03-31", "date_to": "2025-03-01"})
    assert "The end of the period comes before its start." in html and "Correct the filters" in html
    html = page(client, {"date_from": "2024-01-01", "date_to": "2024-01-31"})
    assert 'id="report-empty"' in html


def test_export_opens_in_excel_with_chinese(march, client_as):
    response = client_as("demo.director").get("/reports/surveys/export/", MARCH)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[:4] == ["By month", "By survey", "By department", "By consultant or advisor"]
    surveys = {row[0]: row for row in book["By survey"].iter_rows(min_row=3, values_only=True)}
    assert surveys["服务满意度调查"][1:3] == (6, 4)
    assert round(surveys["Total"][4], 1) == 64.0
    questions = [row[0] for row in book["By question"].iter_rows(values_only=True)]
    assert "您对本次维修保养服务的总体满意度如何？" in questions
    bad = client_as("demo.director").get("/reports/surveys/export/", {"date_from": "x"})
    assert bad.status_code == 302


def test_the_task_refreshes_the_occasions_that_can_still_change(demo, in_scope):
    with in_scope(demo):
        start, end = survey_rollups_recent_range(demo, timezone.now())
        # the longest delay (3 days) plus the longest time to answer (7) or to call (a plan's expiry)
        assert (end - start).days >= 3 + 7
        advisor = staff_of("服务顾问", 2)
        Invitations(demo).answer(end, staff=advisor, satisfaction=5, recommend=10)
    tasks.refresh_survey_rollups.apply(kwargs={"tenant_id": demo.pk}).get()
    with in_scope(demo):
        assert SurveyDay.objects.get(day=end, source="ours", staff=advisor).answered == 1
        assert RollupState.objects.get().surveys_refreshed_at is not None


def test_query_count_does_not_grow_with_the_data(march, client_as, demo, in_scope):
    client = client_as("demo.director")
    client.get(URL, MARCH)  # warm the per-process staff directory
    with in_scope(demo):
        survey_rollups_refresh(tenant=demo, start=date(2025, 3, 1), end=date(2025, 3, 1))  # not cached yet
    with CaptureQueriesContext(connection) as small:
        page(client)
    with in_scope(demo):
        more = Invitations(demo)
        more.count = 1000
        for day in range(1, 29):
            more.answer(date(2025, 3, day), staff=staff_of("服务顾问", day % 4), satisfaction=day % 5 + 1,
                        recommend=day % 11, text=f"第{day}条意见")
        survey_rollups_refresh(tenant=demo, start=date(2025, 3, 1), end=date(2025, 3, 31))
    with CaptureQueriesContext(connection) as large:
        html = page(client)
    assert "第28条意见" in html
    assert len(large) == len(small), [q["sql"][:120] for q in large]


def test_the_demo_seeds_six_months_of_answers_once(demo, in_scope, client_as):
    from analytics.services.survey_rollups import survey_rollups_rebuild
    from crm.demo.surveys import seed_survey_responses

    with in_scope(demo):
        assert seed_survey_responses(demo, invitations=40) == 40
        assert seed_survey_responses(demo, invitations=40) == 0
        survey_rollups_rebuild(tenant=demo)
    today = timezone.localdate()
    html = page(client_as("demo.director"), {"date_from": (today.replace(day=1) - timedelta(days=200)).isoformat(),
                                             "date_to": today.isoformat()})
    assert 'id="report-empty"' not in html and 'id="kpi-csi">—' not in html
