"""Targets and scorecards (绩效考核) on real PostgreSQL: the pro-rata pace over working days against hand-computed
figures (the National Day holiday and its 调休 make-up Saturday, the first and the last day of a period, a zero
target, a day off the company added), the status boundaries, who may set targets for whom, who sees whose
scorecard (another tenant's person is a 404), the Excel export, the specialist's dashboard, and the query count of
the team's page whatever the number of people."""

import io
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import Department, Position, PositionAssignment, RoleKind, Staff, User
from analytics.metrics import COUNT, RATE, TARGET_METRICS
from analytics.models import MeasureDay, PeriodKind, Target
from analytics.selectors.targets import (
    AT_RISK,
    BEHIND,
    NO_DATA,
    ON_TRACK,
    elapsed_working_days,
    expected_to_date,
    period_for,
    scorecards,
    status_of,
)
from analytics.services.dashboard_rollups import dashboard_rollups_refresh
from analytics.services.followup_rollups import followup_rollups_rebuild
from customers.models import Lead
from service.models import WorkCalendarDay
from service.sla import WorkCalendar, calendar_for
from tests.analytics.fixtures import Data, staff_of
from tests.analytics.test_dashboards import complaint

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
OCTOBER = period_for(PeriodKind.MONTH, date(2024, 10, 15))  # 1–7 October off, Saturday 12 October worked (调休)
PLAIN = WorkCalendar(opens=time(9), closes=time(18))  # the national calendar, no company exception


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2024, month, day, hour, tzinfo=SHANGHAI)


# --- the pace, by hand --------------------------------------------------------------------------------------------


def test_pace_over_the_national_day_holiday_and_its_make_up_day():
    assert (OCTOBER.start, OCTOBER.end) == (date(2024, 10, 1), date(2024, 10, 31))
    # 23 weekdays − 5 weekdays of the holiday (1–4, 7 October) + Saturday 12 October = 19 working days
    assert elapsed_working_days(PLAIN, OCTOBER, date(2024, 10, 1)) == (0, 19)  # the first day is a holiday
    assert elapsed_working_days(PLAIN, OCTOBER, date(2024, 10, 7)) == (0, 19)
    assert elapsed_working_days(PLAIN, OCTOBER, date(2024, 10, 8)) == (1, 19)
    assert elapsed_working_days(PLAIN, OCTOBER, date(2024, 10, 12)) == (5, 19)  # the 调休 Saturday counts
    assert elapsed_working_days(PLAIN, OCTOBER, date(2024, 10, 13)) == (5, 19)  # a Sunday does not
    assert elapsed_working_days(PLAIN, OCTOBER, date(2024, 10, 31)) == (19, 19)  # the last day: the whole
    assert elapsed_working_days(PLAIN, OCTOBER, date(2024, 11, 20)) == (19, 19)  # after the period
    assert elapsed_working_days(PLAIN, OCTOBER, date(2024, 9, 20)) == (0, 19)  # before it
    assert expected_to_date(Decimal(38), 5, 19) == 10
    assert expected_to_date(Decimal(38), 19, 19) == 38
    november = period_for(PeriodKind.MONTH, date(2024, 11, 30))
    assert elapsed_working_days(PLAIN, november, date(2024, 11, 1)) == (1, 21)  # a working first day counts
    assert expected_to_date(Decimal(21), 1, 21) == 1
    assert expected_to_date(Decimal(0), 7, 21) == 0  # a zero target expects nothing
    week = period_for(PeriodKind.WEEK, date(2024, 10, 2))  # Monday 30 September: the only working day
    assert (week.start, week.end) == (date(2024, 9, 30), date(2024, 10, 6))
    assert elapsed_working_days(PLAIN, week, date(2024, 10, 6)) == (1, 1)


def test_the_companys_own_day_off_changes_the_pace(demo, in_scope):
    with in_scope(demo):
        WorkCalendarDay.objects.create(tenant=demo, day=date(2024, 10, 31), is_workday=False, note="公司活动")
        WorkCalendarDay.objects.create(tenant=demo, day=date(2024, 10, 6), is_workday=True, note="加班")
        calendar = calendar_for(demo)
    assert elapsed_working_days(calendar, OCTOBER, date(2024, 10, 6)) == (1, 19)
    assert elapsed_working_days(calendar, OCTOBER, date(2024, 10, 31)) == (19, 19)


def test_status_boundaries():
    assert status_of(COUNT, Fraction(10), Fraction(10)) == ON_TRACK
    assert status_of(COUNT, Fraction(8), Fraction(10)) == BEHIND  # exactly 80 %
    assert status_of(COUNT, Fraction(799, 100), Fraction(10)) == AT_RISK
    assert status_of(COUNT, Fraction(0), Fraction(0)) == ON_TRACK  # nothing expected yet, or a zero target
    expected = expected_to_date(Decimal(20), 7, 21)  # 6⅔: no rounding decides
    assert status_of(COUNT, expected * Fraction(4, 5), expected) == BEHIND
    assert status_of(COUNT, expected * Fraction(4, 5) - Fraction(1, 10**9), expected) == AT_RISK
    assert status_of(RATE, Fraction(85), Fraction(85)) == ON_TRACK
    assert status_of(RATE, Fraction(68), Fraction(85)) == BEHIND
    assert status_of(RATE, Fraction(67), Fraction(85)) == AT_RISK
    assert status_of(RATE, None, Fraction(85)) == NO_DATA  # no call made: no rate to judge


@given(target=st.decimals(min_value=0, max_value=100_000, places=2),
       total=st.integers(min_value=1, max_value=31), a=st.integers(0, 31), b=st.integers(0, 31))
def test_expectation_grows_with_elapsed_days_and_is_the_target_at_the_end(target, total, a, b):
    low, high = sorted((min(a, total), min(b, total)))
    assert expected_to_date(target, low, total) <= expected_to_date(target, high, total)
    assert expected_to_date(target, total, total) == Fraction(target)
    assert expected_to_date(target, 0, total) == 0
    assert expected_to_date(target, low, total) == Fraction(target) * low / total  # the simple model


@given(days_off=st.sets(st.integers(0, 30), max_size=12), extra=st.sets(st.integers(0, 30), max_size=4),
       a=st.integers(-5, 40), b=st.integers(-5, 40))
def test_elapsed_days_grow_with_the_date_and_reach_the_period_total(days_off, extra, a, b):
    exceptions = {date(2024, 10, 1) + timedelta(days=d): False for d in days_off}
    exceptions |= {date(2024, 10, 1) + timedelta(days=d): True for d in extra}
    calendar = WorkCalendar(opens=time(9), closes=time(18), exceptions=exceptions)
    first, second = sorted((date(2024, 10, 1) + timedelta(days=a), date(2024, 10, 1) + timedelta(days=b)))
    e1, total = elapsed_working_days(calendar, OCTOBER, first)
    e2, _total = elapsed_working_days(calendar, OCTOBER, second)
    assert e1 <= e2 <= total
    assert elapsed_working_days(calendar, OCTOBER, OCTOBER.end) == (total, total)
    model = sum(calendar.is_workday(OCTOBER.start + timedelta(days=i)) for i in range(31))
    assert total == model


# --- the scorecard from the rollups -----------------------------------------------------------------------------


@pytest.fixture
def october(demo, in_scope):
    """demo.specialist in October 2024: 6 follow-ups due up to the 12th, 4 done; 3 complaints closed (2 in time,
    1 past its deadline); 2 leads won as consultant (and 1 of another tenant's figures nowhere)."""
    with in_scope(demo), timezone.override(demo.timezone):
        d = Data(demo)
        for day, status in ((8, "done"), (9, "done"), (10, "done"), (11, "done"), (11, "open"), (12, "open")):
            d.followup(date(2024, 10, day), status=status, assignee=d.specialist, department=d.desk,
                       closed_at=at(10, day, 15) if status == "done" else None)
        d.followup(date(2024, 10, 9), status="done", assignee=d.colleague, department=d.desk, closed_at=at(10, 9))
        for day, breached in ((2, False), (4, False), (5, True)):
            complaint(demo, opened=at(10, day), status="closed", owner=d.specialist, breached=breached)
        for day in (9, 10):
            lead = Lead.objects.create(tenant=demo, name="韩梅梅", mobile="13900000001", channel="walk_in",
                                       status="won", consultant=d.specialist)
            Lead.objects.filter(pk=lead.pk).update(created_at=at(10, 1), closed_at=at(10, day))
        followup_rollups_rebuild(tenant=demo)
        dashboard_rollups_refresh(tenant=demo, rebuild=True)
        Target.objects.all().delete()  # not the demo's targets (crm.demo.targets): these
        position = Position.objects.get(title="客服专员（服务）")
        for metric, value in (("followups_done", 19), ("followup_completion", 90), ("complaints_closed_in_time", 0),
                              ("leads_won", 5)):
            Target.objects.create(tenant=demo, metric=metric, position=position, period_kind="month",
                                  period_start=None, value=value)
        Target.objects.create(tenant=demo, metric="followups_done", staff=d.specialist, period_kind="month",
                              period_start=date(2024, 10, 1), value=38)  # overrides the position's
    return d


def test_scorecard_paces_the_rollups(october, demo, in_scope):
    with in_scope(demo):
        card = scorecards(tenant=demo, period=OCTOBER, staff_ids=[october.specialist.pk],
                          today=date(2024, 10, 12)).cards[0]
    done = card.line("followups_done")
    assert done.target.staff_id == october.specialist.pk  # the person's own target, not the position's 19
    assert (done.actual, done.expected, done.status) == (4, 10, AT_RISK)  # 38 × 5/19 = 10; 4 < 8
    completion = card.line("followup_completion")
    assert completion.actual == Fraction(400, 6) and completion.status == AT_RISK  # 66.7 % < 80 % of 90 = 72
    closed = card.line("complaints_closed_in_time")
    assert closed.actual == 2 and closed.status == ON_TRACK  # a zero target
    won = card.line("leads_won")
    assert (won.actual, won.expected) == (2, Fraction(25, 19))
    assert won.status == ON_TRACK and won.share == pytest.approx(0.4)
    assert card.line("contact_rate").target is None


def test_a_colleague_gets_the_positions_target(october, demo, in_scope):
    with in_scope(demo):
        card = scorecards(tenant=demo, period=OCTOBER, staff_ids=[october.colleague.pk],
                          today=date(2024, 10, 31)).cards[0]
    done = card.line("followups_done")
    assert done.target.position_id is not None and (done.actual, done.expected) == (1, 19)
    assert done.status == AT_RISK


def test_members_enrolled_is_counted_by_who_enrolled_them_and_still_in_total(demo, in_scope):
    with in_scope(demo), timezone.override(demo.timezone):
        dashboard_rollups_refresh(tenant=demo, rebuild=True)
        from club.models import Member

        rows = MeasureDay.objects.filter(measure="members_enrolled")
        assert sum(r.value for r in rows) == Member.objects.filter(enrolled_at__isnull=False).count()
        by = {r.staff_id for r in rows}
        assert by <= set(Member.objects.values_list("enrolled_by_id", flat=True))


# --- who may set targets for whom --------------------------------------------------------------------------------


def post_target(client, **fields):
    data = {"metric": "followups_done", "period_kind": "month", "period_start": "2026-12-01", "value": "30"}
    data.update(fields)
    return client.post("/reports/targets/", data)


def test_a_manager_sets_targets_in_their_subtree_only(demo, in_scope, client_as):
    with in_scope(demo):
        Target.objects.all().delete()  # not the demo's targets (crm.demo.targets)
        desk_person = staff_of("客服专员（销售）")
        seller = staff_of("销售顾问")
        sales_position = Position.objects.get(title="销售顾问")
    client = client_as("demo.manager")
    assert post_target(client, staff=desk_person.pk).status_code == 302
    refused = post_target(client, staff=seller.pk)
    assert refused.status_code == 200
    assert "You may set targets only for the people and positions of your departments." in refused.content.decode()
    refused = post_target(client, position=sales_position.pk)
    assert "You may set targets only for the people and positions of your departments." in refused.content.decode()
    with in_scope(demo):
        assert Target.objects.filter(staff=desk_person, value=30).exists()
        assert not Target.objects.filter(staff=seller).exists()
        assert not Target.objects.filter(position=sales_position).exists()
    # the director sets it; the manager cannot open or remove it
    assert post_target(client_as("demo.director"), staff=seller.pk).status_code == 302
    with in_scope(demo):
        theirs = Target.objects.get(staff=seller)
    assert client.get(f"/reports/targets/{theirs.pk}/").status_code == 404
    assert client.post(f"/reports/targets/{theirs.pk}/delete/").status_code == 404
    with in_scope(demo):
        assert Target.objects.filter(pk=theirs.pk).exists()


def test_bad_input_is_shown_next_to_the_field(demo, in_scope, client_as):
    with in_scope(demo):
        Target.objects.all().delete()  # not the demo's targets (crm.demo.targets)
        person = staff_of("客服专员（服务）")
        position = Position.objects.get(title="客服专员（服务）")
    client = client_as("demo.director")
    both = post_target(client, staff=person.pk, position=position.pk).content.decode()
    assert "Choose either a position or a person, not both." in both
    rate = post_target(client, staff=person.pk, metric="contact_rate", value="120").content.decode()
    assert "enter at most 100" in rate
    no_period = post_target(client, staff=person.pk, period_start="").content.decode()
    assert "Choose a day of the period" in no_period
    assert post_target(client, staff=person.pk, period_start="2026-12-17").status_code == 302
    again = post_target(client, staff=person.pk, period_start="2026-12-05")  # the same month
    assert "This target is set already: edit it instead." in again.content.decode()
    with in_scope(demo):
        assert Target.objects.filter(staff=person).count() == 1
        assert Target.objects.get(staff=person).period_start == date(2026, 12, 1)


def test_edit_and_remove(demo, in_scope, client_as):
    with in_scope(demo):
        person = staff_of("客服专员（服务）")
        target = Target.objects.create(tenant=demo, metric="followups_done", staff=person, period_kind="week",
                                       period_start=date(2026, 11, 30), value=10)
    client = client_as("demo.manager")
    page = client.get(f"/reports/targets/{target.pk}/").content.decode()
    assert 'value="10.00"' in page or 'value="10"' in page
    response = client.post(f"/reports/targets/{target.pk}/", {
        "metric": "followups_done", "staff": person.pk, "period_kind": "week", "period_start": "2026-12-02",
        "value": "12"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.value == 12 and target.period_start == date(2026, 11, 30)
    assert client.post(f"/reports/targets/{target.pk}/delete/").status_code == 302
    with in_scope(demo):
        assert not Target.objects.filter(pk=target.pk).exists()


def test_specialists_and_analysts_set_no_targets(demo, in_scope, client_as, user):
    with in_scope(demo):
        person = staff_of("客服专员（服务）")
        before = Target.objects.count()
    assert post_target(client_as("demo.specialist"), staff=person.pk).status_code == 403
    analyst = client_as("demo.analyst")
    assert 'id="target-form"' not in analyst.get("/reports/targets/").content.decode()
    post_target(analyst, staff=person.pk)
    with in_scope(demo):
        assert Target.objects.count() == before


# --- who sees whose scorecard -------------------------------------------------------------------------------------


def test_scorecard_visibility_per_role(demo, acme, in_scope, client_as):
    with in_scope(demo):
        me = Staff.objects.get(user__username="demo.specialist")
        colleague = staff_of("客服专员（服务）", exclude="demo.specialist")
        seller = staff_of("销售顾问")
    with in_scope(acme):
        stranger = Staff.objects.get(user__username="acme.specialist")
    specialist = client_as("demo.specialist")
    assert 'id="scorecard"' in specialist.get(f"/reports/scorecards/{me.pk}/").content.decode()
    assert specialist.get(f"/reports/scorecards/{colleague.pk}/").status_code == 404
    team = specialist.get("/reports/scorecards/").content.decode()
    assert f'data-staff="{colleague.pk}"' not in team
    manager = client_as("demo.manager")
    assert manager.get(f"/reports/scorecards/{colleague.pk}/").status_code == 200
    assert manager.get(f"/reports/scorecards/{seller.pk}/").status_code == 404
    for persona in ("director", "analyst"):
        client = client_as(f"demo.{persona}")
        assert client.get(f"/reports/scorecards/{seller.pk}/").status_code == 200
        assert client.get(f"/reports/scorecards/{stranger.pk}/").status_code == 404  # another tenant's


def test_team_page_ranks_by_share_of_target(demo, in_scope, client_as):
    with in_scope(demo):
        position = Position.objects.get(title="客服专员（服务）")
        holders = list(Staff.objects.filter(assignments__position=position).order_by("pk"))
        Target.objects.all().delete()  # not the demo's targets (crm.demo.targets): these
        Target.objects.create(tenant=demo, metric="followups_done", position=position, period_kind="month",
                              period_start=None, value=0)  # a zero target: no share, ranked last
        Target.objects.create(tenant=demo, metric="followups_done", staff=holders[0], period_kind="month",
                              period_start=date(2026, 12, 1), value=1_000_000)
    page = client_as("demo.manager").get("/reports/scorecards/?kind=month&on=2026-12-06").content.decode()
    assert 'id="scorecards"' in page and "Share of target" in page
    ranked = [int(chunk.split('"', 1)[0]) for chunk in page.split('data-staff="')[1:]]
    assert set(h.pk for h in holders) <= set(ranked)
    assert ranked.index(holders[0].pk) == 0  # the only one with a share: first
    by_name = client_as("demo.manager").get("/reports/scorecards/?sort=name").status_code
    assert by_name == 200


def test_wrong_period_input_is_no_500(client_as):
    page = client_as("demo.director").get("/reports/scorecards/?kind=year&on=2026-13-45")
    assert page.status_code == 200 and "Enter a valid date." in page.content.decode()


# --- the export ---------------------------------------------------------------------------------------------------


def test_xlsx_export_for_the_review_meeting(october, demo, client_as, in_scope):
    response = client_as("demo.director").get("/reports/scorecards/export/?kind=month&on=2024-10-12")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][0] == demo.name  # 示范汽车销售服务有限公司, Chinese intact
    header = next(row for row in rows if row[0] == "Rank")
    assert header[:9] == ["Rank", "Person", "Positions", "Metric", "Target", "Expected to date", "Actual",
                          "Share of target", "Status"]
    name = october.specialist.user.display_name
    mine = [row for row in rows if row[1] and row[1].startswith(name)]
    done = next(row for row in mine if row[3] == str(TARGET_METRICS["followups_done"].label))
    assert done[4] == 38 and done[6] == 4 and done[8] == "At risk"
    assert "客服专员（服务）" in done[2]
    assert all(row[1] and row[3] for row in rows[rows.index(header) + 1:])  # one row per person × metric


# --- the specialist's dashboard ----------------------------------------------------------------------------------


def test_the_dashboard_shows_a_specialists_targets(demo, in_scope, client_as):
    with in_scope(demo):
        me = Staff.objects.get(user__username="demo.specialist")
        today = demo.today()
        Target.objects.create(tenant=demo, metric="contact_rate", staff=me, period_kind="week",
                              period_start=today - timedelta(days=today.weekday()), value=85)
    page = client_as("demo.specialist").get("/").content.decode()
    assert 'id="dashboard-targets"' in page and "My targets" in page
    assert 'data-target-metric="contact_rate"' in page
    assert 'data-status="' in page
    director = client_as("demo.director").get("/").content.decode()
    assert 'id="dashboard-targets"' not in director


# --- the query count ---------------------------------------------------------------------------------------------


def add_people(tenant, position, count, start):
    for number in range(start, start + count):
        account = User.objects.create(username=f"{tenant.slug}.rank{number}", last_name="周", first_name=f"{number}号")
        staff = Staff.objects.create(tenant=tenant, user=account, employee_no=f"R{number:04d}")
        PositionAssignment.objects.create(tenant=tenant, position=position, staff=staff)
        Target.objects.create(tenant=tenant, metric="followups_done", staff=staff, period_kind="month",
                              period_start=None, value=number)


def test_query_count_does_not_grow_with_the_people(demo, in_scope, client_as):
    with in_scope(demo):
        desk = Department.objects.get(name="客服组")
        team = Department.objects.create(tenant=demo, name="回访一组", parent=desk)
        position = Position.objects.create(tenant=demo, title="回访专员", role_kind=RoleKind.SPECIALIST,
                                           department=team)
        add_people(demo, position, 3, 1)
    client = client_as("demo.director")
    url = f"/reports/scorecards/?department={team.pk}"
    client.get(url)
    with CaptureQueriesContext(connection) as three:
        page = client.get(url).content.decode()
    assert page.count('data-staff="') == 3
    with in_scope(demo):
        add_people(demo, position, 7, 4)
    client.get(url)
    with CaptureQueriesContext(connection) as ten:
        page = client.get(url).content.decode()
    assert page.count('data-staff="') == 10
    assert len(ten) == len(three)
    assert len(three) <= 25
