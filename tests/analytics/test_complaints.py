"""The complaint report (投诉报告) on real PostgreSQL: the domain.md formulas with worked numbers (resolution time
median and p90 by percentile_cont, SLA breach rate, reopen rate), the tables per category, owner, channel and
month, the period in the company's time zone, who sees what, the filters, bad input, the export, and a query
count that does not grow with the data."""

import io
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import Department, Staff
from analytics.selectors.complaints import complaint_report
from customers.models import Customer
from service.models import Complaint, ComplaintCategory

pytestmark = pytest.mark.django_db
URL = "/reports/complaints/"
EXPORT = "/reports/complaints/export/"
MARCH = {"date_from": "2025-03-01", "date_to": "2025-03-31"}
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOISE, BILLING = "发动机噪音", "收费争议"


def at(day: int, hour: int = 9, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=SHANGHAI)


def make(tenant, *, opened: datetime, channel="phone", category=None, owner=None, department=None,
         severity="normal", status="open", closed_after: float | None = None, resolution_due: datetime | None = None,
         summary="投诉", **extra) -> Complaint:
    """A complaint written directly (the figures must follow from the rows, whatever path wrote them). Closed ones
    are closed `closed_after` hours after they were opened."""
    fields = {"status": status}
    if closed_after is not None:
        closed = opened + timedelta(hours=closed_after)
        fields = {"status": "closed", "responded_at": opened + timedelta(minutes=30), "resolved_at": closed,
                  "closed_at": closed}
    resolution_due = resolution_due or opened + timedelta(hours=40)
    response_due = extra.pop("response_due", min(opened + timedelta(hours=2), resolution_due))
    return Complaint.objects.create(
        tenant=tenant, customer=Customer.objects.order_by("pk").first(), channel=channel, category=category,
        severity=severity, summary=summary, description="客户反映的问题", owner=owner, department=department,
        opened_at=opened, response_due=response_due, resolution_due=resolution_due,
        **{**fields, **extra})


def staff(username: str) -> Staff:
    return Staff.objects.select_related("user").get(user__username=username)


def label(member: Staff) -> str:
    """How the report names a staff member."""
    return f"{member.user.display_name} ({member.employee_no})"


@pytest.fixture
def march(demo, acme, in_scope):
    """Eight complaints opened in March 2025 (Shanghai time) in demo, one on 28 February at 23:30 (still
    February there, though 1 March 00:30 is February in UTC), one in acme.

    closed after 2 h (opened 1 March 00:30), 4 h (reopened once before) and 6 h (major, resolution
    deadline missed) in 发动机噪音; 30 h (first response missed, escalated) in 收费争议; one unresolved in
    售后服务部's queue past its resolution deadline, one resolved waiting for the customer's confirmation (not
    classified), two unresolved within their deadlines."""
    later = timezone.now() + timedelta(days=30)
    with in_scope(acme):
        make(acme, opened=at(5), category=ComplaintCategory.objects.create(tenant=acme, name="艾克美分类"),
             owner=staff("acme.specialist"), closed_after=3)
    with in_scope(demo):
        s = SimpleNamespace(specialist=staff("demo.specialist"), manager=staff("demo.manager"),
                            director=staff("demo.director"), service=Department.objects.get(name="售后服务部"))
        s.noise, _ = ComplaintCategory.objects.get_or_create(tenant=demo, name=NOISE)
        s.billing, _ = ComplaintCategory.objects.get_or_create(tenant=demo, name=BILLING)
        s.c0 = make(demo, opened=at(28, 23, 30, month=2), category=s.noise, owner=s.specialist, closed_after=10)
        s.c1 = make(demo, opened=at(1, 0, 30), category=s.noise, owner=s.specialist, closed_after=2)
        s.c2 = make(demo, opened=at(3), category=s.noise, owner=s.specialist, closed_after=4, reopened=1)
        s.c3 = make(demo, opened=at(4), channel="online", category=s.noise, owner=s.manager, severity="major",
                    closed_after=6, resolution_breached_at=at(5))
        s.c4 = make(demo, opened=at(6), channel="walk_in", category=s.billing, owner=s.manager, closed_after=30,
                    response_breached_at=at(6, 12), escalation=1)
        s.c5 = make(demo, opened=at(10), category=s.billing, department=s.service, status="open",
                    resolution_due=at(20))
        s.c6 = make(demo, opened=at(12), channel="survey", owner=s.director, status="resolved",
                    resolved_at=at(13))
        s.c7 = make(demo, opened=at(15), category=s.billing, owner=s.specialist, status="waiting",
                    resolution_due=later)
        s.c8 = make(demo, opened=at(31, 23, 59), channel="online", category=s.noise, owner=s.specialist,
                    status="new", response_due=later, resolution_due=later)
    return s


def page(client, params=MARCH) -> str:
    response = client.get(URL, params)
    assert response.status_code == 200
    return response.content.decode()


def table(html: str, table_id: str) -> list[list[str]]:
    """The body rows of a table of the page, as the text of their cells."""
    body = html.split(f'id="{table_id}"')[1].split("</table>")[0].split("<tbody>")[1]
    return [[cell.split(">")[-1].strip() for cell in row.split("</td>")[:-1]] for row in body.split("</tr>")[:-1]]


def test_the_director_sees_the_figures_with_the_formulas(march, client_as):
    html = page(client_as("demo.director"))
    assert 'id="kpi-opened">8<' in html  # not 28 February 23:30 in Shanghai, though 1 March 00:30 is
    assert 'id="kpi-closed">4<' in html
    assert 'id="kpi-unresolved">3<' in html and 'id="kpi-resolved">1<' in html
    # resolution times 2, 4, 6 and 30 hours: the median between 4 and 6; p90 at 0.9 × 3 = 2.7, 6 + 0.7 × 24
    assert 'id="kpi-median">5.0<' in html and 'id="kpi-p90">22.8<' in html
    # a deadline missed: the resolution (c3), the first response (c4), unresolved past its deadline (c5): 3 of 8
    assert 'id="kpi-breach-rate">37.5%' in html
    # reopened once, of five ever resolved (four closed, one resolved waiting for the customer)
    assert 'id="kpi-reopen-rate">20.0%' in html
    assert 'id="kpi-escalated">1<' in html and 'id="kpi-major">1<' in html
    assert "SLA breach rate = complaints past the first-response or the resolution deadline" in html
    assert "Reopen rate = complaints reopened at least once" in html
    assert "艾克美分类" not in html  # another tenant's


def test_tables_per_category_owner_channel_and_month(march, client_as):
    html = page(client_as("demo.director"))
    # the top category first: count, share, breach rate, median hours
    assert table(html, "by-category") == [[NOISE, "4", "50.0%", "25.0%", "4.0"],
                                          [BILLING, "3", "37.5%", "66.7%", "30.0"],
                                          ["Not classified", "1", "12.5%", "0.0%", "—"]]
    owners = {row[0]: row[1:] for row in table(html, "by-owner")}  # count, unresolved, breached, median
    assert owners[label(march.specialist)] == ["4", "2", "0", "3.0"]
    assert owners[label(march.manager)] == ["2", "0", "2", "18.0"]
    assert owners["Nobody (team queue)"] == ["1", "1", "1", "—"]
    assert owners[label(march.director)] == ["1", "0", "0", "—"]
    channels = {row[0]: row[1:3] for row in table(html, "by-channel")}
    assert channels == {"Phone": ["4", "50.0%"], "Online": ["2", "25.0%"], "Walk-in": ["1", "12.5%"],
                        "Survey": ["1", "12.5%"]}
    assert table(html, "by-month") == [["2025-03", "8", "4", "37.5%"]]
    html = page(client_as("demo.director"), {"date_from": "2025-02-01", "date_to": "2025-03-31"})
    assert table(html, "by-month") == [["2025-02", "1", "1", "0.0%"], ["2025-03", "8", "4", "37.5%"]]
    assert 'id="kpi-median">6.0<' in html  # 2, 4, 6, 10, 30


def test_each_role_sees_its_share(march, client_as):
    # a specialist: only their own complaints (the queue of 售后服务部 is not theirs)
    html = page(client_as("demo.specialist"))
    assert 'id="kpi-opened">4<' in html and 'id="kpi-closed">2<' in html and 'id="kpi-median">3.0<' in html
    assert [row[0] for row in table(html, "by-owner")] == [label(march.specialist)]
    assert 'id="kpi-breach-rate">0.0%' in html
    # the analyst reads every complaint of the tenant
    assert 'id="kpi-opened">8<' in page(client_as("demo.analyst"))
    # another tenant: their own complaint only
    html = page(client_as("acme.director"))
    assert 'id="kpi-opened">1<' in html and NOISE not in html


def test_the_report_reads_the_same_through_the_selector(march, demo, user, in_scope):
    params = QueryDict(mutable=True)
    params.update(MARCH)
    with in_scope(demo):
        report = complaint_report(user("demo.director"), params, tenant=demo)
    totals = report.totals
    assert (totals.opened, totals.closed, totals.unresolved, totals.resolved) == (8, 4, 3, 1)
    assert totals.median_hours == pytest.approx(5.0) and totals.p90_hours == pytest.approx(22.8)
    assert totals.breach_rate == pytest.approx(3 / 8) and totals.reopen_rate == pytest.approx(1 / 5)
    assert [line.label for line in report.by_category] == [NOISE, BILLING, "Not classified"]


def test_filters_by_severity_category_team_and_owner(march, client_as):
    client = client_as("demo.director")
    html = page(client, {**MARCH, "severity": "major"})
    assert 'id="kpi-opened">1<' in html and 'id="kpi-median">6.0<' in html and 'id="kpi-breach-rate">100.0%' in html
    html = page(client, {**MARCH, "category": march.billing.pk})
    assert 'id="kpi-opened">3<' in html and 'id="kpi-breach-rate">66.7%' in html
    assert [row[0] for row in table(html, "by-category")] == [BILLING]
    assert 'id="kpi-opened">1<' in page(client, {**MARCH, "category": "none"})
    html = page(client, {**MARCH, "department": march.service.pk})
    assert 'id="kpi-opened">1<' in html and [row[0] for row in table(html, "by-owner")] == ["Nobody (team queue)"]
    html = page(client, {**MARCH, "owner": march.manager.pk})
    assert 'id="kpi-opened">2<' in html and 'id="kpi-median">18.0<' in html
    assert 'id="kpi-opened">1<' in page(client, {**MARCH, "owner": "none"})


def test_bad_filters_show_a_message_and_an_empty_period_says_so(march, client_as):
    client = client_as("demo.director")
    for bad in ({"date_from": "2025-13-01"}, {"date_from": "2025-03-31", "date_to": "2025-03-01"},
                {**MARCH, "owner": "abc"}, {**MARCH, "category": "999999999999"}, {**MARCH, "severity": "huge"},
                {"date_from": "0001-01-01", "date_to": "0001-01-02"},
                {"date_from": "2020-01-01", "date_to": "2025-03-31"}):
        html = page(client, bad)
        assert 'id="report-invalid"' in html and "Correct the filters to see the report." in html, bad
        assert 'id="kpi-opened"' not in html
    assert "The end of the period comes before its start." in page(
        client, {"date_from": "2025-03-31", "date_to": "2025-03-01"})
    html = page(client, {"date_from": "2024-01-01", "date_to": "2024-01-31"})
    assert 'id="report-empty"' in html and "No complaints were opened in this period." in html
    assert client.get(EXPORT, {"date_from": "x"}).status_code == 302


def test_export_opens_in_excel_with_chinese(march, client_as):
    response = client_as("demo.director").get(EXPORT, MARCH)
    assert response.status_code == 200
    assert response["Content-Disposition"] == "attachment; filename*=UTF-8''complaint-report-20250301-20250331.xlsx"
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Figures", "By category", "By owner", "By channel", "By month"]
    figures = {row[0]: row[1] for row in book["Figures"].iter_rows(min_row=3, values_only=True)}
    assert figures["Complaints opened"] == 8
    assert figures["Resolution time, 90th percentile (hours)"] == 22.8
    assert figures["SLA breach rate"] == 0.375
    categories = [row for row in book["By category"].iter_rows(min_row=3, values_only=True)]
    assert categories[0] == (NOISE, 4, 0.5, 1, 0.25, 4.0)
    assert categories[1][0] == BILLING
    assert book["By category"]["A1"].value == "示范汽车销售服务有限公司"
    months = [row for row in book["By month"].iter_rows(min_row=3, values_only=True)]
    assert months == [("2025-03", 8, 4, 3, 0.375)]


def test_the_export_is_refused_without_the_permission(march, client_as, new_staff, demo):
    new_staff(demo, "demo.newcomer")
    assert client_as("demo.newcomer").get(EXPORT, MARCH).status_code == 403
    assert client_as("demo.newcomer").get(URL, MARCH).status_code == 403


def test_query_count_does_not_grow_with_the_data(demo, client_as, in_scope, django_assert_max_num_queries):
    client = client_as("demo.director")
    june = {"date_from": "2024-06-01", "date_to": "2024-07-31"}
    with in_scope(demo):
        owners = list(Staff.objects.order_by("pk")[:6])
        categories = [ComplaintCategory.objects.get_or_create(tenant=demo, name=f"分类{n}")[0] for n in range(5)]

        def add(n: int):
            make(demo, opened=datetime(2024, 6 + n % 2, 1 + n % 28, 10, tzinfo=SHANGHAI),
                 channel=Complaint.Channel.values[n % 6], category=categories[n % 5], owner=owners[n % 6],
                 severity="major" if n % 3 else "normal", closed_after=n if n % 2 else None, reopened=int(n % 4 == 1))

        for n in range(3):
            add(n)
    page(client, june)  # warm the per-process staff directory
    with CaptureQueriesContext(connection) as small:
        html = page(client, june)
    assert 'id="kpi-opened">3<' in html
    with in_scope(demo):
        for n in range(3, 30):
            add(n)
    with django_assert_max_num_queries(len(small)):
        html = page(client, june)
    assert 'id="kpi-opened">30<' in html and len(table(html, "by-owner")) == 6
