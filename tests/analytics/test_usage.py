"""The CRM usage report (/reports/usage/): figures against a hand-computed fixture (across the company's midnight;
two calls to one customer on one day reach one customer), the rollup against a computation on random rows
(hypothesis), the incremental fill equal to a rebuild, role visibility, another tenant never counted, the people
not logged in for N days, and a query count that does not grow with the data."""

import os
from collections import Counter
from datetime import date, datetime, timedelta

import pghistory
import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Tenant, User
from analytics.models import StaffLogin, UsageDay
from analytics.selectors.usage import median
from analytics.services.usage import usage_login_record, usage_rollups_refresh
from customers.models import Customer, CustomerNote
from tests.analytics.fixtures import SHANGHAI, Data
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.django_db
EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "25"))
D = date(2023, 3, 10)
URL = "/reports/usage/"
PERIOD = {"date_from": "2023-03-09", "date_to": "2023-03-12"}


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def seed(tenant) -> Data:
    """demo.specialist on D: logs in twice; adds a customer (pghistory insert) and changes it (update), writes a
    note; calls customer A at 23:30 and 23:50 (both reach them) and at 00:10 the next day (the same UTC day),
    customer B once at 10:00 without reaching them. A's follow-up was due the day before (first call 47.5 hours
    after its due day began), B's in five days (0 hours). The seller calls once on D."""
    d = Data(tenant)
    me = d.specialist
    usage_login_record(user=me.user, at=local(D, 8))
    usage_login_record(user=me.user, at=local(D, 13))
    with pghistory.context(user=me.user.pk):
        customer = Customer.objects.create(tenant=tenant, name="新客户", mobile="13700000001", owner=me)
        customer.name = "新客户甲"
        customer.save(update_fields=["name"])
    events = apps.get_model("customers", "CustomerEvent").objects
    events.filter(pgh_obj_id=customer.pk).update(pgh_created_at=local(D, 9))
    note = CustomerNote.objects.create(tenant=tenant, customer=customer, author=me, body="回访备注")
    CustomerNote.objects.filter(pk=note.pk).update(created_at=local(D, 9, 30))
    d.fa = d.followup(D - timedelta(days=1), assignee=me, department=d.desk)
    d.fb = d.followup(D + timedelta(days=5), assignee=me, department=d.desk)
    while d.fb.customer_id == d.fa.customer_id:
        d.fb = d.followup(D + timedelta(days=5), assignee=me, department=d.desk)
    d.call(d.fa, local(D, 23, 30), "completed")
    d.call(d.fa, local(D, 23, 50), "rescheduled")
    d.call(d.fa, local(D + timedelta(days=1), 0, 10), "completed")
    d.call(d.fb, local(D, 10), "not_reached")
    fs = d.followup(D, assignee=d.seller)
    d.call(fs, local(D, 11), "completed")
    return d


@pytest.fixture
def seeded(demo, acme):
    with scope(tenant=demo), timezone.override(demo.timezone):
        d = seed(demo)
        usage_rollups_refresh(tenant=demo, now=local(D + timedelta(days=3), 12), rebuild=True)
    with scope(tenant=acme), timezone.override(acme.timezone):
        a = seed(acme)  # the same again in the other company: never counted in demo
        usage_rollups_refresh(tenant=acme, now=local(D + timedelta(days=3), 12), rebuild=True)
    return d, a


def row(staff, day) -> UsageDay:
    return UsageDay.objects.get(staff=staff, day=day)


def test_figures_against_a_hand_computed_fixture(seeded, demo, in_scope):
    d, _a = seeded
    with in_scope(demo):
        first = row(d.specialist, D)
        assert (first.logins, first.created, first.changed) == (2, 2, 1)
        assert (first.calls, first.customers_reached) == (3, 1)  # A twice (once as reached), B not reached
        assert first.first_attempts == 2 and first.first_attempt_hours == {"47": 1, "0": 1}
        second = row(d.specialist, D + timedelta(days=1))  # 00:10 on the company's clock: the next day
        assert (second.calls, second.customers_reached, second.first_attempts, second.logins) == (1, 1, 0, 0)
        assert row(d.seller, D).customers_reached == 1


def test_page_per_person_and_day(seeded, client_as):
    d, _a = seeded
    page = client_as("demo.director").get(URL, PERIOD).content.decode()
    line = page.split(f'data-staff="{d.specialist.pk}"')[1].split("</tr>")[0]
    cells = [c.split("<")[0] for c in line.split('class="text-end">')[1:]]
    assert cells == ["2", "2", "1", "4", "2", "23.5"]  # logins, created, changed, calls, reached, median hours
    day = page.split('data-day="2023-03-10"')[1].split("</tr>")[0]
    assert [c.split("<")[0] for c in day.split('class="text-end">')[1:]] == ["2", "2", "2", "1", "4", "2", "11.0"]
    assert 'id="usage-chart"' in page and '"Active users"' in page
    assert "distinct customers" in page  # the formula


def test_roles(seeded, client_as):
    d, a = seeded
    director = client_as("demo.director").get(URL, PERIOD).content.decode()
    manager = client_as("demo.manager").get(URL, PERIOD).content.decode()
    analyst = client_as("demo.analyst").get(URL, PERIOD).content.decode()
    for page in (director, analyst):
        assert f'data-staff="{d.specialist.pk}"' in page and f'data-staff="{d.seller.pk}"' in page
    assert f'data-staff="{d.specialist.pk}"' in manager and f'data-staff="{d.seller.pk}"' not in manager
    assert client_as("demo.specialist").get(URL).status_code == 403
    other = client_as("acme.director").get(URL, PERIOD).content.decode()
    assert f'data-staff="{d.specialist.pk}"' not in other and f'data-staff="{a.specialist.pk}"' in other
    assert client_as(None).get(URL).status_code == 302


def test_menu_link(client_as):
    assert URL in client_as("demo.manager").get("/").content.decode()
    assert URL not in client_as("demo.specialist").get("/").content.decode()


def test_login_form_records_a_login_and_nothing_secret(demo, client_as, in_scope):
    client = client_as(None)
    with in_scope(demo):
        before = StaffLogin.objects.count()
    response = client.post("/accounts/login/", {"username": "demo.specialist", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    client.post("/accounts/login/", {"username": "demo.specialist", "password": "wrong"})
    with in_scope(demo):
        assert StaffLogin.objects.count() == before + 1
        login = StaffLogin.objects.latest("pk")
        assert login.staff.user.username == "demo.specialist"
        assert {f.name for f in StaffLogin._meta.concrete_fields} == {"id", "tenant", "created_at", "updated_at",
                                                                      "staff"}


def idle_ids(response) -> set[int]:
    section = response.content.decode().split('id="usage-idle-title"')[1].split("</section>")[0]
    return {int(part.split('"')[0]) for part in section.split('data-staff="')[1:]}


def test_not_logged_in_for_n_days(demo, client_as, user):
    now = timezone.now()
    User.objects.filter(username="demo.specialist").update(last_login=now - timedelta(days=10))
    User.objects.filter(username="demo.manager").update(last_login=now - timedelta(days=2))
    specialist = user("demo.specialist").staff
    manager = user("demo.manager").staff
    client = client_as("demo.director")  # logs in now: not idle
    director = user("demo.director").staff
    assert specialist.pk in idle_ids(client.get(URL)) - {manager.pk, director.pk}
    assert manager.pk not in idle_ids(client.get(URL))
    assert manager.pk in idle_ids(client.get(URL, {"idle_days": "1"}))
    assert specialist.pk not in idle_ids(client.get(URL, {"idle_days": "30"}))
    bad = client.get(URL, {"idle_days": "0"})
    assert bad.status_code == 200 and 'id="report-invalid"' in bad.content.decode()


def test_query_count_does_not_grow_with_data(demo, in_scope, client_as):
    client = client_as("demo.director")
    client.get(URL, PERIOD)  # warm the per-process staff directory

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, PERIOD).status_code == 200
        return len(captured)

    empty = queries()
    with in_scope(demo), timezone.override(demo.timezone):
        d = seed(demo)
        for n in range(5):
            f = d.followup(D, assignee=d.colleague, department=d.desk)
            d.call(f, local(D + timedelta(days=n % 3), 9 + n), "completed")
        usage_rollups_refresh(tenant=demo, now=local(D + timedelta(days=3), 12), rebuild=True)
    assert queries() == empty


def test_median():
    assert median(Counter()) is None
    assert median(Counter({3: 1})) == 3
    assert median(Counter({0: 1, 47: 1})) == 23.5
    assert median(Counter({1: 2, 5: 1})) == 1
    assert median(Counter({1: 2, 5: 2, 9: 1})) == 5


# --- the rollup against the raw rows (hypothesis) ---------------------------------------------------------------

calls_st = st.lists(st.tuples(st.integers(0, 7), st.integers(0, 23), st.integers(0, 59), st.integers(0, 2),
                              st.sampled_from(["completed", "not_reached", "rescheduled", "wrong_number"]),
                              st.booleans()), max_size=14)
logins_st = st.lists(st.tuples(st.integers(0, 7), st.integers(0, 23), st.booleans()), max_size=6)
REACHED = {"completed", "rescheduled", "opted_out"}


def expected_rows(data: Data, followups, calls, logins) -> dict:
    """(staff id, day) → figures, computed here from the generated rows."""
    out: dict = {}

    def line(staff, day):
        return out.setdefault((staff.pk, day), {"logins": 0, "calls": 0, "reached": set(), "hours": Counter()})

    first_of: dict = {}
    for when, followup, outcome, staff in sorted(calls, key=lambda c: c[0]):
        figures = line(staff, when.astimezone(SHANGHAI).date())
        figures["calls"] += 1
        if outcome in REACHED:
            figures["reached"].add(followup.customer_id)
        if followup.pk not in first_of:
            first_of[followup.pk] = True
            due = local(followup.due_on, 0)
            figures["hours"][max(0, int((when - due).total_seconds() // 3600))] += 1
    for when, staff in logins:
        line(staff, when.astimezone(SHANGHAI).date())["logins"] += 1
    return {key: (v["logins"], v["calls"], len(v["reached"]), dict(v["hours"])) for key, v in out.items()}


def in_rollup() -> dict:
    rows = UsageDay.objects.filter(day__lt=date(2024, 1, 1))
    return {(r.staff_id, r.day): (r.logins, r.calls, r.customers_reached, {int(k): v for k, v in
                                                                          r.first_attempt_hours.items()})
            for r in rows}


def write(data: Data, rows, logins, followups, after: datetime | None):
    """Write the generated calls and logins; with `after`, shifted to after that moment (the second batch)."""
    calls, made = [], []
    staff = (data.specialist, data.colleague)
    base = local(D, 0) if after is None else after
    for offset, hour, minute, which, outcome, mine in rows:
        when = base + timedelta(days=offset % 4, hours=hour, minutes=minute)
        followup = followups[which]
        person = staff[0] if mine else staff[1]
        data.call(followup, when, outcome, staff=person)
        calls.append((when, followup, outcome, person))
    for offset, hour, mine in logins:
        when = base + timedelta(days=offset % 4, hours=hour)
        person = staff[0] if mine else staff[1]
        usage_login_record(user=person.user, at=when)
        made.append((when, person))
    return calls, made


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(first=st.tuples(calls_st, logins_st), second=st.tuples(calls_st, logins_st))
def test_rollup_equals_raw_and_incremental_equals_rebuild(db, first, second):
    demo = Tenant.objects.get(slug="demo")
    with scope(tenant=demo), timezone.override(demo.timezone), transaction.atomic():
        data = Data(demo)
        followups = [data.followup(D + timedelta(days=n), assignee=data.specialist, department=data.desk)
                     for n in (-2, 1, 3)]
        calls1, logins1 = write(data, *first, followups, None)
        now1 = local(D + timedelta(days=4), 0)
        usage_rollups_refresh(tenant=demo, now=now1)
        calls2, logins2 = write(data, *second, followups, now1 + timedelta(minutes=1))
        now2 = local(D + timedelta(days=9), 0)
        usage_rollups_refresh(tenant=demo, now=now2)
        incremental = in_rollup()
        assert incremental == expected_rows(data, followups, calls1 + calls2, logins1 + logins2)
        usage_rollups_refresh(tenant=demo, now=now2)  # a second run changes nothing
        assert in_rollup() == incremental
        usage_rollups_refresh(tenant=demo, now=now2, rebuild=True)
        assert in_rollup() == incremental
        transaction.set_rollback(True)
