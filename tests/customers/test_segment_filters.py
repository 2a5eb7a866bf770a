"""The customer list's segment filters (issue 23, part 6) on real PostgreSQL: the lifecycle state against a plain
model of the rules and age against today's birthdays on random data (hypothesis), the spend, the city, one vehicle
for model and age, the club level and satisfaction that the club and the surveys add, the `within` scope that
narrows whatever team a filter names, and absurd input answered on the page, not with a 500."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.http import QueryDict
from django.utils import timezone
from django_scopes import scope
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from accounts.models import Department, Tenant
from club.models import Level, Member
from club.services.members import member_enrol
from customers.filters import CustomerFilter
from customers.lifecycle import shift_months
from customers.models import Customer, Purchase, ServiceVisit, Vehicle
from customers.places import city_of
from service.models import Questionnaire, Survey, SurveyInvitation, SurveyResponse
from tests.analytics.test_retention import W, model_state

pytestmark = pytest.mark.django_db
COUNT = re.compile(r'id="result-count"[^>]*>\s*([\d,]+)')
HYPOTHESIS = settings(max_examples=15, deadline=None, database=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def found(query: str, among) -> set[int]:
    """The ids of `among` (customers) the filter `query` finds."""
    filterset = CustomerFilter(QueryDict(query), queryset=Customer.objects.filter(pk__in=among), request=None)
    assert filterset.is_valid(), filterset.errors
    return set(filterset.qs.values_list("pk", flat=True))


# --- the lifecycle state against the rules -------------------------------------------------------------------------

STATES = ("new", "regular", "won_back", "thin_ice", "lapsed")
TODAY = Tenant(timezone="Asia/Shanghai").today()
# any day of three years, often one on the edge of a window (3, 10, 12, 15, 24 months ago, a day either side)
EDGES = sorted({(TODAY - shift_months(TODAY, -months)).days + shift
                for months in (3, 10, 12, 15, 24) for shift in (-1, 0, 1)})
days_ago = st.one_of(st.integers(min_value=0, max_value=3 * 365), st.sampled_from(EDGES))


@HYPOTHESIS
@given(customers=st.lists(st.tuples(st.lists(days_ago, max_size=3), st.lists(days_ago, max_size=3),
                                    st.lists(days_ago, max_size=1)), min_size=1, max_size=6),
       future=st.booleans())
@example(customers=[([EDGES[i]], [], []) for i in range(0, len(EDGES), 1)][:6], future=False)  # each on an edge
def test_the_state_filter_equals_the_rules_on_random_data(db, customers, future):
    demo = Tenant.objects.get(slug="demo")
    today = demo.today()
    assert today == TODAY  # not across midnight
    with scope(tenant=demo):
        made = {}
        for i, (purchases, visits, cancelled) in enumerate(customers):
            customer = Customer.objects.create(tenant=demo, name=f"状态{i}")
            days = [today - timedelta(days=n) for n in purchases + visits]
            for n in purchases:
                Purchase.objects.create(tenant=demo, customer=customer, contract_on=today - timedelta(days=n),
                                        amount=1)
            for n in visits:
                ServiceVisit.objects.create(tenant=demo, customer=customer, opened_on=today - timedelta(days=n),
                                            visit_type="routine", amount=1)
            for n in cancelled:  # a cancelled purchase is no activity
                Purchase.objects.create(tenant=demo, customer=customer, contract_on=today - timedelta(days=n),
                                        amount=1, cancelled_at=timezone.now())
            if future:  # booked ahead: not an activity yet
                ServiceVisit.objects.create(tenant=demo, customer=customer, opened_on=today + timedelta(days=3),
                                            visit_type="routine", amount=1)
            made[customer.pk] = model_state(days, today)
        for state in STATES:
            assert found(f"state={state}", made) == {pk for pk, s in made.items() if s == state}, state
        assert found("state=new&state=lapsed", made) == {pk for pk, s in made.items() if s in ("new", "lapsed")}
        Customer.objects.filter(pk__in=made).delete()
    assert W.inactive == 12  # the model's windows are the demo tenant's (LifecycleSettings defaults)


# --- age -------------------------------------------------------------------------------------------------------------


def age_on(birthday: date, today: date) -> int:
    return today.year - birthday.year - ((today.month, today.day) < (birthday.month, birthday.day))


# a birthday of any day, often one on the edge of an age (this day so many years ago, a day either side)
birthdays_ = st.one_of(st.dates(min_value=date(1930, 1, 1), max_value=date(2010, 12, 31)),
                       st.builds(lambda years, shift: shift_months(TODAY, -12 * years) + timedelta(days=shift),
                                 st.integers(min_value=20, max_value=31), st.integers(min_value=-1, max_value=1)))
ages = st.integers(min_value=20, max_value=30)


@HYPOTHESIS
@given(birthdays=st.lists(birthdays_, min_size=1, max_size=6), low=st.one_of(st.none(), ages),
       high=st.one_of(st.none(), ages))
@example(birthdays=[shift_months(TODAY, -12 * 31) + timedelta(days=d) for d in (-1, 0, 1)], low=None, high=30)
@example(birthdays=[shift_months(TODAY, -12 * 20) + timedelta(days=d) for d in (-1, 0, 1)], low=20, high=None)
def test_the_age_filter_counts_whole_years_to_today(db, birthdays, low, high):
    demo = Tenant.objects.get(slug="demo")
    today = demo.today()
    with scope(tenant=demo):
        made = {Customer.objects.create(tenant=demo, name=f"年龄{i}", birthday=b).pk: b
                for i, b in enumerate(birthdays)}
        query = "&".join(f"{k}={v}" for k, v in (("age_min", low), ("age_max", high)) if v is not None)
        expected = {pk for pk, b in made.items()
                    if (low is None or age_on(b, today) >= low) and (high is None or age_on(b, today) <= high)}
        assert found(query, made) == expected
        Customer.objects.filter(pk__in=made).delete()


def test_a_birthday_on_29_february_turns_a_year_older_on_1_march():
    assert age_on(date(2000, 2, 29), date(2025, 2, 28)) == 24
    assert shift_months(date(2025, 2, 28), -12 * 25) == date(2000, 2, 28)  # the filter's bound: born on or before


# --- spend, city, vehicle ------------------------------------------------------------------------------------------


@pytest.fixture
def shoppers(demo):
    """甲 paid 200,000 for a car and 1,500 for two services (a cancelled 9,999 service does not count); 乙 paid 800
    once; 丙 nothing. 甲 lives in 广州, 乙 in 上海, 丙 has no address. 甲's Passat is 6 years old, their Golf new;
    乙's Passat is new."""
    today = demo.today()
    with scope(tenant=demo):
        a = Customer.objects.create(tenant=demo, name="甲", address="广东省广州市天河区体育西路1号")
        b = Customer.objects.create(tenant=demo, name="乙", address="上海市浦东新区世纪大道2号")
        c = Customer.objects.create(tenant=demo, name="丙")
        Purchase.objects.create(tenant=demo, customer=a, contract_on=today, amount=Decimal("200000"))
        for amount in (Decimal("1000"), Decimal("500")):
            ServiceVisit.objects.create(tenant=demo, customer=a, opened_on=today, visit_type="routine", amount=amount)
        ServiceVisit.objects.create(tenant=demo, customer=a, opened_on=today, visit_type="routine",
                                    amount=Decimal("9999"), cancelled_at=timezone.now())
        ServiceVisit.objects.create(tenant=demo, customer=b, opened_on=today, visit_type="routine", amount=800)
        Vehicle.objects.create(tenant=demo, customer=a, vin="LSVAA4180E2000001", model_name="帕萨特",
                               purchased_on=shift_months(today, -12 * 6 - 1))
        Vehicle.objects.create(tenant=demo, customer=a, vin="LSVAA4180E2000002", model_name="高尔夫",
                               purchased_on=today)
        Vehicle.objects.create(tenant=demo, customer=b, vin="LSVAA4180E2000003", model_name="帕萨特",
                               purchased_on=today)
        return {"a": a.pk, "b": b.pk, "c": c.pk}


def test_spend_is_everything_paid_less_what_was_cancelled(demo, shoppers):
    a, b, c = shoppers["a"], shoppers["b"], shoppers["c"]
    with scope(tenant=demo):
        assert found("spend_min=201500", shoppers.values()) == {a}
        assert found("spend_min=201501", shoppers.values()) == set()
        assert found("spend_max=800", shoppers.values()) == {b, c}
        assert found("spend_min=1&spend_max=1000", shoppers.values()) == {b}


def test_the_city_is_read_from_the_address(demo, shoppers):
    assert city_of("广东省广州市天河区体育西路1号") == "广州市"
    assert city_of("上海市浦东新区世纪大道2号") == "上海市"
    assert city_of("内蒙古自治区呼和浩特市新城区") == "呼和浩特市"
    assert city_of("北京朝阳区建国路88号") == ""  # no 市: no city rather than a wrong one
    assert city_of("") == ""
    with scope(tenant=demo):
        assert found("city=广州", shoppers.values()) == {shoppers["a"]}
        assert found("city=上海市", shoppers.values()) == {shoppers["b"]}
        assert found("city=州", shoppers.values()) == set()  # the whole name, not a fragment


def test_model_and_age_are_asked_of_one_vehicle(demo, shoppers):
    a, b = shoppers["a"], shoppers["b"]
    with scope(tenant=demo):
        assert found("vehicle_model=帕萨特", shoppers.values()) == {a, b}
        assert found("vehicle_age_min=5", shoppers.values()) == {a}
        assert found("vehicle_model=帕萨特&vehicle_age_min=5", shoppers.values()) == {a}
        assert found("vehicle_model=高尔夫&vehicle_age_min=5", shoppers.values()) == set()  # the Golf is new
        assert found("vehicle_model=帕萨特&vehicle_age_max=0", shoppers.values()) == {b}


# --- the club level and satisfaction, added by their apps -------------------------------------------------------------


def test_the_club_level_filter_reads_active_memberships(demo, shoppers, user):
    a, b, c = shoppers["a"], shoppers["b"], shoppers["c"]
    director = user("demo.director").staff
    with scope(tenant=demo):
        member_enrol(customer=Customer.objects.get(pk=a), staff=director, consent_note="signed")
        member = member_enrol(customer=Customer.objects.get(pk=b), staff=director, consent_note="signed")
        Member.objects.filter(pk=member.pk).update(status="cancelled", cancelled_at=timezone.now())
        entry = Level.objects.order_by("rank").first()
        assert found(f"club_level={entry.pk}", shoppers.values()) == {a}
        assert found("club_level=none", shoppers.values()) == {b, c}  # a cancelled member is no member
        assert found(f"club_level=none&club_level={entry.pk}", shoppers.values()) == {a, b, c}


def test_satisfaction_is_the_latest_answer(demo, shoppers):
    a, b, c = shoppers["a"], shoppers["b"], shoppers["c"]
    now = timezone.now()
    with scope(tenant=demo):
        survey = Survey.objects.create(tenant=demo, name="满意度", questionnaire=Questionnaire.objects.first())
        version = survey.questionnaire.versions.first()

        def answer(customer, key, recommend, when):
            invitation = SurveyInvitation.objects.create(
                tenant=demo, survey=survey, customer_id=customer, occasion_key=key, occasion_on=when.date(),
                version=version, send_after=when, sent_at=when, expires_at=when + timedelta(days=7), status="answered")
            SurveyResponse.objects.create(tenant=demo, invitation=invitation, device="x", submitted_at=when,
                                          recommend=recommend)

        answer(a, "1", 3, now - timedelta(days=30))  # a detractor once, a promoter since
        answer(a, "2", 10, now - timedelta(days=1))
        answer(b, "3", 7, now - timedelta(days=1))
        assert found("satisfaction=promoter", shoppers.values()) == {a}
        assert found("satisfaction=passive", shoppers.values()) == {b}
        assert found("satisfaction=detractor", shoppers.values()) == set()
        assert found("satisfaction=unanswered", shoppers.values()) == {c}


# --- the scope of a saved filter, and bad input ----------------------------------------------------------------------


def test_within_narrows_the_teams_a_filter_names(demo):
    with scope(tenant=demo):
        desk = Department.objects.get(name="客服组")
        other = Department.objects.exclude(pk=desk.pk).exclude(parent=desk).first()
        everyone = Customer.objects.filter(is_active=True).values_list("pk", flat=True)
        in_desk = found(f"team={desk.pk}", everyone)
        in_other = found(f"team={other.pk}", everyone)
        assert found(f"team={desk.pk}&team={other.pk}&within={desk.pk}", everyone) == in_desk
        assert found(f"team={other.pk}&within={desk.pk}", everyone) == in_other & in_desk


@pytest.mark.parametrize("query", ["age_min=abc", "age_min=-5&age_max=99999", "spend_min=1e40",
                                   "vehicle_age_min=100000", "city=%00", "state=nonsense", "club_level=x"])
def test_absurd_filters_answer_on_the_page(client_as, query):
    response = client_as("demo.director").get(f"/customers/?{query}")
    assert response.status_code == 200
    assert COUNT.search(response.content.decode()) or "errorlist" in response.content.decode()


def test_the_new_filters_are_on_the_list(client_as):
    page = client_as("demo.director").get("/customers/").content.decode()
    for name in ("age_min", "gender", "city", "vehicle_age_min", "spend_max", "state", "club_level", "satisfaction"):
        assert f'name="{name}"' in page, name
