"""The role dashboards (`/`) on real PostgreSQL: each KPI of the registry against a hand-computed fixture (empty
periods and division by zero included), the change against the previous period, what each role sees, and — for
every tile of every role — the number on the tile equal to the count of the list its link opens."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Staff
from analytics.metrics import METRICS, NOT_A_LIST, ORGANISATION
from analytics.selectors.dashboards import Period, period_of, tiles_for
from analytics.services.dashboard_rollups import dashboard_rollups_refresh
from analytics.services.followup_rollups import followup_rollups_rebuild
from analytics.services.lifecycle_rollups import lifecycle_rollups_refresh
from analytics.services.survey_rollups import survey_rollups_rebuild
from club.models import Member
from customers.models import Customer, Lead
from service.models import Complaint

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
FEBRUARY = Period("month", "February 2024", date(2024, 2, 1), date(2024, 2, 29), date(2024, 1, 1), date(2024, 1, 31))
PERSONAS = ("director", "manager", "specialist", "analyst")


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=SHANGHAI)


def complaint(tenant, *, opened, status="open", severity="normal", resolution_due=None, owner=None,
              department=None, breached=False) -> Complaint:
    return Complaint.objects.create(
        tenant=tenant, customer=Customer.objects.order_by("pk").first(), channel="phone", severity=severity,
        summary="投诉", description="客户反映的问题", owner=owner, department=department, status=status,
        opened_at=opened, response_due=opened + timedelta(hours=2),
        resolution_due=resolution_due or opened + timedelta(days=365 * 20),
        responded_at=opened + timedelta(hours=1),
        resolution_breached_at=opened + timedelta(days=2) if breached else None,
        closed_at=opened + timedelta(days=3) if status == "closed" else None)


def lead(tenant, *, created, status="new", closed=None) -> Lead:
    item = Lead.objects.create(tenant=tenant, name="李雷", mobile="13900000000", channel="walk_in", status=status,
                               lost_reason="价格" if status == "lost" else "")
    Lead.objects.filter(pk=item.pk).update(created_at=created, closed_at=closed)
    return item


def refresh(tenant):
    with timezone.override(tenant.timezone):
        followup_rollups_rebuild(tenant=tenant)
        survey_rollups_rebuild(tenant=tenant)
        dashboard_rollups_refresh(tenant=tenant, rebuild=True)
        lifecycle_rollups_refresh(tenant=tenant, rebuild=True)


def value(tiles, key):
    return next(t for t in tiles if t.metric.key == key)


# --- the formulas on a hand-computed fixture -----------------------------------------------------------------


@pytest.fixture
def february(demo, in_scope):
    """February 2024 (and January), far from the demo data: 3 complaints opened in February (one major, one past
    its deadline, one closed), 1 in January; leads: 3 won and 1 lost closed in February (one closed 23:30 on the
    29th local — still February — and one at 00:30 on 1 March — not), 1 won in January."""
    with in_scope(demo):
        desk = Staff.objects.get(user__username="demo.specialist")
        complaint(demo, opened=at(2, 3), severity="major", owner=desk)
        complaint(demo, opened=at(2, 10), breached=True, owner=desk)
        complaint(demo, opened=at(2, 29, 23, 30), status="closed", owner=desk)
        complaint(demo, opened=at(1, 15), owner=desk)
        complaint(demo, opened=at(3, 1, 0, 30), owner=desk)  # March on the company's clock
        for closed in (at(2, 5), at(2, 6), at(2, 29, 23, 30)):
            lead(demo, created=at(1, 20), status="won", closed=closed)
        lead(demo, created=at(1, 20), status="lost", closed=at(2, 7))
        lead(demo, created=at(1, 3), status="won", closed=at(1, 9))
        lead(demo, created=at(2, 2), status="won", closed=at(3, 1, 0, 30))
        refresh(demo)
    return demo


def test_kpis_against_a_hand_computed_month(february, user, in_scope):
    director = user("demo.director")
    with in_scope(february):
        tiles = tiles_for(director, ORGANISATION, FEBRUARY, tenant=february)
    opened = value(tiles, "complaints_opened")
    assert (opened.value, opened.previous) == (3, 1)
    assert opened.change == 2 and opened.trend == "bad"  # more complaints is worse
    breach = value(tiles, "complaints_breach_rate")
    assert breach.value == pytest.approx(1 / 3) and breach.previous == 0
    conversion = value(tiles, "lead_conversion")
    assert conversion.value == pytest.approx(3 / 4)  # 3 won of 4 closed in February
    assert conversion.previous == 1  # 1 won of 1 in January
    assert [link.count for link in conversion.links] == [3, 4]
    registered = value(tiles, "leads_registered")
    assert registered.value == 1  # registered 2 February (the others in January)


def test_empty_period_and_division_by_zero(demo, user, in_scope):
    director = user("demo.director")
    empty = Period("month", "1990", date(1990, 6, 1), date(1990, 6, 30), date(1990, 5, 1), date(1990, 5, 31))
    with in_scope(demo):
        refresh(demo)
        tiles = tiles_for(director, ORGANISATION, empty, tenant=demo)
    rates = [t for t in tiles if t.metric.unit in ("rate", "score", "nps")]
    assert rates and all(t.value is None and t.change is None for t in rates)  # shown "—", not 0 % or an error
    assert value(tiles, "complaints_opened").value == 0


def test_period_compares_like_with_like():
    period = period_of("month", date(2026, 3, 31))
    assert (period.start, period.end) == (date(2026, 3, 1), date(2026, 3, 31))
    assert (period.previous_start, period.previous_end) == (date(2026, 2, 1), date(2026, 2, 28))
    week = period_of("week", date(2026, 12, 6))  # a Sunday
    assert (week.start, week.previous_start, week.previous_end) == (date(2026, 11, 30), date(2026, 11, 23),
                                                                    date(2026, 11, 29))
    assert period_of("nonsense", date(2026, 12, 6)).key == "month"
    year = period_of("year", date(2024, 2, 29))
    assert (year.previous_start, year.previous_end) == (date(2023, 1, 1), date(2023, 2, 28))
    april = period_of("month", date(2026, 4, 30))  # a period's last day: the whole period before it
    assert (april.previous_start, april.previous_end) == (date(2026, 3, 1), date(2026, 3, 31))
    quarter = period_of("quarter", date(2026, 6, 30))
    assert (quarter.previous_start, quarter.previous_end) == (date(2026, 1, 1), date(2026, 3, 31))


# --- every tile of every role equals its list ------------------------------------------------------------------

COUNT = re.compile(r'id="result-count"[^>]*>\s*([\d,]+)(\+?)')
LINK = re.compile(r'<a href="([^"]+)" data-count="(\d+)">')


def listed(client, url: str) -> int:
    html = client.get(url.replace("&amp;", "&")).content.decode()
    found = COUNT.search(html)
    if found is None:
        return 0  # the list's empty state
    assert not found.group(2), f"{url}: more rows than the list counts exactly"
    return int(found.group(1).replace(",", ""))


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("period", ["month", "year"])
def test_every_tile_equals_its_list(demo, in_scope, client_as, persona, period):
    with in_scope(demo):
        refresh(demo)
    client = client_as(f"demo.{persona}")
    page = client.get(f"/?period={period}")
    assert page.status_code == 200
    links = LINK.findall(page.content.decode())
    assert links, "the dashboard shows tiles with links"
    for url, count in links:
        assert listed(client, url) == int(count), url


def test_each_role_sees_its_tiles(demo, in_scope, client_as):
    with in_scope(demo):
        refresh(demo)
    director = client_as("demo.director").get("/").content.decode()
    for key in ORGANISATION:
        assert f'data-metric="{key}"' in director
    assert 'id="dashboard-departments"' in director and "<canvas" in director
    manager = client_as("demo.manager").get("/").content.decode()
    assert 'id="dashboard-team"' in manager and 'data-metric="complaints_opened"' in manager
    specialist = client_as("demo.specialist").get("/").content.decode()
    assert 'data-metric="followup_completion"' in specialist
    assert 'data-metric="complaints_opened"' not in specialist and 'data-metric="points_liability"' not in specialist
    analyst = client_as("demo.analyst").get("/").content.decode()
    assert "personal data masked" in analyst


def test_no_position_shows_who_to_ask(demo, new_staff, client_as):
    new_staff(demo, "demo.newbie")
    page = client_as("demo.newbie").get("/").content.decode()
    assert "You hold no position yet" in page and "data-metric" not in page


def test_formula_and_as_of_are_shown(demo, in_scope, client_as):
    with in_scope(demo):
        refresh(demo)
    page = client_as("demo.director").get("/").content.decode()
    assert str(METRICS["followup_completion"].formula) in page
    assert "Figures as of" in page


def test_chinese(demo, in_scope, client_as, user):
    with in_scope(demo):
        refresh(demo)
    type(user("demo.director")).objects.filter(username="demo.director").update(language="zh-hans")
    page = client_as("demo.director").get("/").content.decode()
    assert "回访完成率" in page and "期内已完成回访 ÷ 期内到期回访" in page and "本季度" in page


def test_query_count_does_not_grow_with_data(demo, in_scope, client_as):
    client = client_as("demo.director")
    with in_scope(demo):
        refresh(demo)
    client.get("/")
    with CaptureQueriesContext(connection) as before:
        client.get("/?period=year")
    with in_scope(demo):
        for day in range(1, 25):
            complaint(demo, opened=timezone.now() - timedelta(days=day))
        Member.objects.update(points=10)
        refresh(demo)
    with CaptureQueriesContext(connection) as after:
        client.get("/?period=year")
    assert len(after) == len(before)
    assert len(before) <= 35  # the cache key (rollup stamps, targets), then the figures and the retention tiles


def test_another_tenants_figures_are_not_counted(demo, acme, in_scope, user):
    with in_scope(acme):
        for day in range(1, 6):
            complaint(acme, opened=at(2, day))
        refresh(acme)
    with in_scope(demo):
        refresh(demo)
        tiles = tiles_for(user("demo.director"), ORGANISATION, FEBRUARY, tenant=demo)
    assert value(tiles, "complaints_opened").value == 0


def test_links_other_than_lists_are_declared():
    for key, index in NOT_A_LIST:
        assert index < len(METRICS[key].links)


def test_the_dashboard_is_computed_once_per_refresh(demo, in_scope, client_as):
    """Kept per user until a rollup is refreshed: the second view reads no rollup, a refresh shows new figures,
    and another user never gets this one's page."""
    with in_scope(demo):
        refresh(demo)
    director = client_as("demo.director")
    first = director.get("/").content.decode()
    with CaptureQueriesContext(connection) as again:
        assert director.get("/").content.decode().count('data-metric="') == first.count('data-metric="')
    assert not any("analytics_measureday" in q["sql"] or "analytics_followupday" in q["sql"]
                   for q in again.captured_queries)
    specialist = client_as("demo.specialist").get("/").content.decode()
    assert 'data-metric="complaints_opened"' not in specialist  # not the director's page
    with in_scope(demo):
        complaint(demo, opened=timezone.now() - timedelta(hours=1))
        refresh(demo)
    after = director.get("/").content.decode()
    before_count = int(re.search(r'data-metric="complaints_opened".*?data-value>([\d,]+)', first, re.S).group(1))
    after_count = int(re.search(r'data-metric="complaints_opened".*?data-value>([\d,]+)', after, re.S).group(1))
    assert after_count == before_count + 1
