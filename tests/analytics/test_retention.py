"""Churn and retention (/reports/retention/) on real PostgreSQL: the rates against a hand-computed fixture (an
empty period and division by zero included), the rollup against a simple model of the rules on random data
(hypothesis), an incremental fill equal to a rebuild, the thin-ice list equal to the page's figure, the win-back
campaign generating follow-ups for exactly those customers, what each role sees, another tenant never counted, and
the page's query count independent of the data."""

import re
from collections import Counter
from datetime import date, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Department, Staff, Tenant
from analytics.metrics import ORGANISATION
from analytics.models import LifecycleCohort, LifecycleFlow, LifecycleMonth
from analytics.selectors.dashboards import Period, tiles_for
from customers import lifecycle
from customers.lifecycle import Windows, shift_months
from customers.models import Customer, LifecycleSettings, Purchase, ServiceVisit
from customers.selectors.customers import customers_visible_to
from service.models import ContactOptOut, FollowUp, FollowUpPlan
from service.services.generation import followups_generate

from analytics.services.lifecycle_rollups import lifecycle_rollups_refresh  # isort: skip

pytestmark = pytest.mark.django_db
COUNT = re.compile(r'id="result-count"[^>]*>\s*([\d,]+)(\+?)')
THIN = re.compile(r'id="kpi-thin-ice">(\d+)<')


def customer(tenant, name, *, owner=None, department=None, purchases=(), visits=(), cancelled=()) -> Customer:
    """A customer with purchases and visits on these days (`cancelled`: days of cancelled purchases)."""
    made = Customer.objects.create(tenant=tenant, name=name, owner=owner, department=department, stage="customer")
    for day in purchases:
        Purchase.objects.create(tenant=tenant, customer=made, contract_on=day, amount=100_000)
    for day in cancelled:
        Purchase.objects.create(tenant=tenant, customer=made, contract_on=day, amount=100_000,
                                cancelled_at=timezone.now())
    for day in visits:
        ServiceVisit.objects.create(tenant=tenant, customer=made, opened_on=day, visit_type="routine", amount=500)
    last = max([*purchases, *visits], default=None)
    Customer.objects.filter(pk=made.pk).update(last_visit_on=last)
    return made


def refresh(tenant, **kwargs):
    with scope(tenant=tenant), timezone.override(tenant.timezone):
        return lifecycle_rollups_refresh(tenant=tenant, **kwargs)


# --- the rates on a hand-computed fixture ------------------------------------------------------------------------

FIRST_HALF_2001 = Period("month", "2001 H1", date(2001, 1, 1), date(2001, 6, 30), date(2000, 7, 1),
                         date(2000, 12, 31))


@pytest.fixture
def year_2001(demo, acme):
    """Far from the demo data (windows 12 / 2 / 3 months). At the end of 2000 A, B, C and F are active (4), D has
    lapsed (January 2000), E is not a customer yet. By the end of June 2001: A has lapsed (March) — churned; B
    came back in January — regular; C is on thin ice (10 months since August 2000); D came back in April — won
    back; E bought first in May — new (acquired); F's purchase was cancelled, their visit of 31 December 2000
    counts — regular. Acme's customer, active all the time, is never counted."""
    with scope(tenant=demo):
        customer(demo, "甲", purchases=[date(2000, 3, 10)])
        customer(demo, "乙", purchases=[date(2000, 2, 1)], visits=[date(2001, 1, 15)])
        customer(demo, "丙", purchases=[date(2000, 8, 20)])
        customer(demo, "丁", purchases=[date(1999, 1, 5)], visits=[date(2001, 4, 2)])
        customer(demo, "戊", purchases=[date(2001, 5, 10)])
        customer(demo, "己", cancelled=[date(2000, 6, 30)], visits=[date(2000, 12, 31)])
    with scope(tenant=acme):
        customer(acme, "庚", purchases=[date(2000, 5, 5)], visits=[date(2000, 11, 1), date(2001, 3, 1)])
    refresh(demo, rebuild=True)
    refresh(acme, rebuild=True)
    return demo


def test_rates_against_a_hand_computed_half_year(year_2001, user, client_as):
    director = user("demo.director")
    with scope(tenant=year_2001):
        tiles = {t.metric.key: t for t in tiles_for(director, ORGANISATION, FIRST_HALF_2001, tenant=year_2001)}
    assert tiles["churn_rate"].value == pytest.approx(1 / 4)  # A of A, B, C, F
    assert tiles["retention_rate"].value == pytest.approx(3 / 4)
    assert tiles["acquisition_rate"].value == pytest.approx(1 / 4)  # E
    assert [link.count for link in tiles["churn_rate"].links] == [1, 4]
    # July–December 2000: A and B active at the end of June; nobody lapsed; C and F came
    assert tiles["churn_rate"].previous == 0 and tiles["acquisition_rate"].previous == pytest.approx(2 / 2)
    assert "12 months" in tiles["churn_rate"].note

    page = client_as("demo.director").get("/reports/retention/?date_from=2001-01-01&date_to=2001-06-30")
    text = page.content.decode()
    assert 'id="kpi-churn">25.0%<' in text and 'id="kpi-retention">75.0%<' in text
    assert 'id="kpi-acquisition">25.0%<' in text
    counts = dict(re.findall(r'data-state="(\w+)">(\d+)<', text))
    assert counts == {"new": "1", "regular": "2", "won_back": "1", "thin_ice": "1", "lapsed": "1"}
    assert "no visit or purchase for 12 months" in text  # the windows are shown with the figures
    with scope(tenant=year_2001):
        assert LifecycleFlow.objects.filter(month=date(2001, 5, 1), from_state="none", to_state="new").get().count == 1
        assert LifecycleFlow.objects.filter(month=date(2001, 4, 1), from_state="lapsed",
                                            to_state="won_back").get().count == 1


def test_an_empty_period_divides_by_nothing(year_2001, user, client_as):
    director = user("demo.director")
    empty = Period("month", "1990", date(1990, 1, 1), date(1990, 6, 30), date(1989, 7, 1), date(1989, 12, 31))
    with scope(tenant=year_2001):
        tiles = {t.metric.key: t for t in tiles_for(director, ORGANISATION, empty, tenant=year_2001)}
    for key in ("churn_rate", "retention_rate", "acquisition_rate"):
        assert tiles[key].value is None and tiles[key].change is None
    text = client_as("demo.director").get("/reports/retention/?date_from=1990-01-01&date_to=1990-06-30"
                                          ).content.decode()
    assert 'id="kpi-churn">—<' in text and 'id="report-empty"' in text


def test_a_period_longer_than_the_window_is_refused_next_to_the_field(demo, client_as):
    text = client_as("demo.director").get("/reports/retention/?date_from=2001-01-01&date_to=2002-06-30"
                                          ).content.decode()
    assert 'id="report-invalid"' in text and "Choose at most 12 months" in text


def test_the_windows_are_the_tenants(year_2001, user):
    """A 6-month inactivity window: A, C and F lapsed in the first half of 2001 too, by the tenant's rule."""
    with scope(tenant=year_2001):
        LifecycleSettings.objects.update_or_create(tenant=year_2001, defaults={"inactivity_months": 6,
                                                                               "thin_ice_months": 1})
    refresh(year_2001)  # other windows: everything again
    with scope(tenant=year_2001):
        tiles = {t.metric.key: t for t in tiles_for(user("demo.director"), ORGANISATION, FIRST_HALF_2001,
                                                    tenant=year_2001)}
    # active at the end of 2000 within 6 months: C (August) and F (December); both lapsed by June
    assert [link.count for link in tiles["churn_rate"].links] == [2, 2]
    assert "6 months" in tiles["churn_rate"].note


# --- the rollup against a model of the rules --------------------------------------------------------------------

W = Windows()
BASE = date(2003, 1, 1)
SPAN_DAYS = 3 * 365
CHECKED = [shift_months(BASE, i) for i in range(48)]  # demo's own data begins decades later


def model_state(days: list[date], asof: date) -> str | None:
    """The rules of customers.lifecycle, written plainly."""
    done = sorted(d for d in days if d <= asof)
    if not done:
        return None
    last, first = done[-1], done[0]
    returns = [b for a, b in zip(done, done[1:], strict=False) if shift_months(a, W.inactive) <= b]
    if shift_months(last, W.inactive) <= asof:
        return "lapsed"
    if shift_months(last, W.thin_ice_after) <= asof:
        return "thin_ice"
    if shift_months(first, W.new) > asof:
        return "new"
    if returns and shift_months(returns[-1], W.new) > asof:
        return "won_back"
    return "regular"


def month_end(month: date) -> date:
    return shift_months(month, 1) - timedelta(days=1)


def model(customers: list[tuple[list[date], list[date], list[date]]]):
    states, flows, cohorts = Counter(), Counter(), Counter()
    for purchases, visits, _cancelled in customers:
        days = purchases + visits
        previous = "none"
        for month in [shift_months(BASE, -1), *CHECKED]:
            state = model_state(days, month_end(month))
            if month >= BASE and state is not None:
                states[month, state] += 1
                flows[month, previous, state] += 1
            previous = state or "none"
        if purchases:
            delivered = min(purchases)
            last = max(days)
            cohorts[delivered.replace(day=1), (last.year - delivered.year) * 12 + last.month - delivered.month] += 1
    return states, flows, cohorts


def rollup(staff: Staff):
    in_checked = {"month__in": CHECKED, "staff": staff}
    states, flows, cohorts = Counter(), Counter(), Counter()
    for r in LifecycleMonth.objects.filter(**in_checked):  # lapsed customers: one row per month they lapsed in
        states[r.month, r.state] += r.count
    for r in LifecycleFlow.objects.filter(**in_checked):
        flows[r.month, r.from_state, r.to_state] += r.count
    for r in LifecycleCohort.objects.filter(staff=staff):
        cohorts[r.cohort, r.age] += r.count
    return states, flows, cohorts


day = st.integers(min_value=0, max_value=SPAN_DAYS).map(lambda n: BASE + timedelta(days=n))
customers_strategy = st.lists(st.tuples(st.lists(day, max_size=3), st.lists(day, max_size=4),
                                        st.lists(day, max_size=1)), min_size=1, max_size=6)


@settings(max_examples=15, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(customers=customers_strategy)
def test_the_rollup_equals_the_rules_on_random_data(db, customers):
    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo), transaction.atomic():
        try:
            owner = Staff.objects.get(user__username="demo.specialist")  # their rows are the test's only
            Customer.objects.filter(owner=owner).update(owner=None)
            for i, (purchases, visits, cancelled) in enumerate(customers):
                customer(demo, f"客户{i}", owner=owner, purchases=purchases, visits=visits, cancelled=cancelled)
            with timezone.override(demo.timezone):
                lifecycle_rollups_refresh(tenant=demo, rebuild=True)
            states, flows, cohorts = model(customers)
            found_states, found_flows, found_cohorts = rollup(owner)
            assert found_states == states
            assert found_flows == flows
            assert found_cohorts == cohorts
        finally:
            transaction.set_rollback(True)


def rows():
    return (Counter((r.month, r.state, r.since, r.staff_id, r.department_id, r.count)
                    for r in LifecycleMonth.objects.all()),
            Counter((r.month, r.from_state, r.to_state, r.staff_id, r.department_id, r.count)
                    for r in LifecycleFlow.objects.all()),
            Counter((r.cohort, r.age, r.staff_id, r.department_id, r.count, r.serviced)
                    for r in LifecycleCohort.objects.all()))


def test_an_incremental_fill_equals_a_rebuild(year_2001, in_scope):
    demo = year_2001
    with in_scope(demo):
        now = timezone.now()
        refresh(demo, now=now)  # from the mark of the rebuild
        first = rows()
        refresh(demo, now=now)  # nothing changed: the same rows
        assert rows() == first
        someone = Customer.objects.get(name="丙")
        ServiceVisit.objects.create(tenant=demo, customer=someone, opened_on=date(2001, 2, 3), visit_type="repair",
                                    amount=100)  # backdated: months from February 2001 change
        Purchase.objects.filter(customer__name="乙").update(cancelled_at=timezone.now(), updated_at=timezone.now())
        moved = Customer.objects.get(name="丁")
        moved.owner = Staff.objects.get(user__username="demo.manager")
        moved.save()  # re-keys all of their months
        customer(demo, "辛", purchases=[demo.today() - timedelta(days=300)])
        incremental = refresh(demo, now=now + timedelta(hours=1))
        assert incremental.first <= date(2000, 2, 1)  # the cancelled purchase's month
        after = rows()
        assert after != first
        refresh(demo, now=now + timedelta(hours=1), rebuild=True)
        assert rows() == after


# --- the thin-ice list, the win-back campaign, roles and tenants -------------------------------------------------


@pytest.fixture
def thin_ice(demo, acme):
    """Customers on thin ice today (11 months since their last purchase): one of the manager's, one of the
    director's (outside the manager's team), one in the 客服组 queue; one of acme's."""
    today = demo.today()
    with scope(tenant=demo):
        manager = Staff.objects.get(user__username="demo.manager")
        director = Staff.objects.get(user__username="demo.director")
        desk = Department.objects.get(name="客服组")
        made = [customer(demo, "冰一", owner=manager, purchases=[shift_months(today, -11)]),
                customer(demo, "冰二", owner=director, purchases=[shift_months(today, -11) - timedelta(days=3)]),
                customer(demo, "冰三", department=desk, purchases=[shift_months(today, -10) - timedelta(days=1)])]
    with scope(tenant=acme):
        customer(acme, "冰四", purchases=[shift_months(acme.today(), -11)])
    refresh(demo, rebuild=True)
    refresh(acme, rebuild=True)
    return made


def listed(client, url: str) -> int:
    found = COUNT.search(client.get(url.replace("&amp;", "&")).content.decode())
    if found is None:
        return 0
    assert not found.group(2)
    return int(found.group(1).replace(",", ""))


@pytest.mark.parametrize("persona", ["director", "manager", "analyst"])
def test_the_thin_ice_list_counts_what_the_page_shows(demo, thin_ice, client_as, persona):
    client = client_as(f"demo.{persona}")
    text = client.get("/reports/retention/").content.decode()
    shown = int(THIN.search(text).group(1))
    url = re.search(r'id="thin-ice-link" href="([^"]+)"', text).group(1)
    assert shown >= 1 and listed(client, url) == shown
    with scope(tenant=demo):
        windows = lifecycle.windows_for(demo.pk)
        from accounts.models import User
        visible = customers_visible_to(User.objects.get(username=f"demo.{persona}"))
        assert visible.filter(lifecycle.thin_ice_q(windows, demo.today())).count() == shown
    assert "冰四" not in text


def test_the_manager_sees_their_teams_customers_only(demo, thin_ice, client_as):
    director = int(THIN.search(client_as("demo.director").get("/reports/retention/").content.decode()).group(1))
    manager = int(THIN.search(client_as("demo.manager").get("/reports/retention/").content.decode()).group(1))
    analyst = int(THIN.search(client_as("demo.analyst").get("/reports/retention/").content.decode()).group(1))
    assert analyst == director  # an analyst counts everyone (nobody is named)
    assert manager < director  # not the director's own customer


def test_the_dashboard_tile_links_to_the_thin_ice_list(demo, thin_ice, client_as):
    client = client_as("demo.director")
    text = client.get("/").content.decode()
    found = re.search(r'<a href="([^"]*lifecycle=thin_ice[^"]*)" data-count="(\d+)">', text)
    assert found and int(found.group(2)) >= 3 and listed(client, found.group(1)) == int(found.group(2))
    assert "thin ice 2 months" in text


@pytest.mark.parametrize("persona", ["manager", "director"])
def test_a_win_back_campaign_calls_exactly_the_customers_on_thin_ice(demo, thin_ice, client_as, persona):
    client = client_as(f"demo.{persona}")
    response = client.post("/reports/retention/win-back/", follow=True)
    assert response.status_code == 200 and "Win-back campaign" in response.content.decode()
    with scope(tenant=demo):
        plan = FollowUpPlan.objects.get(name__startswith="Win-back")
        assert response.redirect_chain[-1][0] == f"/service/plans/{plan.pk}/"
        from accounts.models import User
        visible = customers_visible_to(User.objects.get(username=f"demo.{persona}"))
        expected = set(visible.filter(lifecycle.thin_ice_q(lifecycle.windows_for(demo.pk), demo.today()),
                                      consent_withdrawn_at__isnull=True)
                       .exclude(pk__in=ContactOptOut.objects.filter(contact_type="winback").values("customer_id"))
                       .values_list("pk", flat=True))
        with timezone.override(demo.timezone):
            followups_generate(demo)
        called = set(FollowUp.objects.filter(plan=plan).values_list("customer_id", flat=True))
        assert called == expected and thin_ice[0].pk in called
        assert (thin_ice[1].pk in called) == (persona == "director")  # the director's own: not the manager's team
        assert plan.contact_type == "winback" and plan.campaign_on == demo.today()


@pytest.mark.parametrize("persona", ["specialist", "analyst"])
def test_only_those_who_plan_follow_ups_start_a_campaign(demo, thin_ice, client_as, persona):
    client = client_as(f"demo.{persona}")
    assert client.post("/reports/retention/win-back/").status_code == 403
    if persona == "analyst":
        assert "Start a win-back campaign" not in client.get("/reports/retention/").content.decode()
    else:
        assert client.get("/reports/retention/").status_code == 403  # the report is for leading and analysing
    with scope(tenant=demo):
        assert not FollowUpPlan.objects.filter(name__startswith="Win-back").exists()


def test_the_page_reads_a_fixed_number_of_queries(demo, client_as):
    client = client_as("demo.manager")
    refresh(demo, rebuild=True)
    client.get("/reports/retention/")  # warm the session and caches
    with CaptureQueriesContext(connection) as few:
        client.get("/reports/retention/?date_from=2001-01-01&date_to=2001-06-30")
    with scope(tenant=demo):
        manager = Staff.objects.get(user__username="demo.manager")
        for i in range(30):
            customer(demo, f"多{i}", owner=manager, purchases=[date(2000, 1 + i % 12, 1)],
                     visits=[date(2001, 1 + i % 6, 2)])
    refresh(demo)
    with CaptureQueriesContext(connection) as many:
        client.get("/reports/retention/?date_from=2001-01-01&date_to=2001-06-30")
    assert len(many) == len(few)
