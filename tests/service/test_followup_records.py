"""The follow-up records (/service/followups/records/): every follow-up a user may read, of any status, with the
filters the dashboards' tiles link with (their numbers are this list's count), by role and tenant."""

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope

from accounts.models import Department, Tenant
from customers.validators import display_mobile, mask_mobile
from service.models import FollowUp, FollowUpPlan
from tests.service.test_calls import followup, staff

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
URL = "/service/followups/records/"
Status = FollowUp.Status


@pytest.fixture
def scoped(scoped):
    """No follow-ups of demo's but those a test makes."""
    FollowUp.objects.all().delete()
    return scoped


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def done(f: FollowUp, closed_at: datetime) -> FollowUp:
    FollowUp.objects.filter(pk=f.pk).update(status=Status.DONE, closed_at=closed_at)
    f.refresh_from_db()
    return f


def page(client_or_username, client_as=None, **params) -> str:
    client = client_as(client_or_username) if client_as else client_or_username
    response = client.get(URL, params)
    assert response.status_code == 200
    return response.content.decode()


def shown(html: str, *followups) -> set[int]:
    return {f.pk for f in followups if f'id="record-{f.pk}"' in html}


def count_text(html: str) -> str:
    return " ".join(html.split('id="result-count">')[1].split("</div>")[0].split())


def test_every_status_is_listed_with_the_count_and_links_to_each_follow_up(scoped, client_as):
    today = scoped.today()
    open_ = followup("王芳", due=today)
    completed = done(followup("李强", due=today - timedelta(days=3), assignee="demo.manager"), at(today, 10))
    expired = followup("赵敏", due=today - timedelta(days=9), assignee=None, department="客服组")
    FollowUp.objects.filter(pk=expired.pk).update(status=Status.EXPIRED)

    html = page("demo.director", client_as)
    assert shown(html, open_, completed, expired) == {open_.pk, completed.pk, expired.pk}
    assert count_text(html) == "3 follow-ups"
    assert f'href="{reverse("service:followup", args=[completed.pk])}"' in html
    row = html.split(f'id="record-{completed.pk}"')[1].split("</tr>")[0]
    assert "李强" in row and "Completed" in row and staff("demo.manager").user.display_name in row
    assert "维修后2日回访" in row
    queue_row = html.split(f'id="record-{expired.pk}"')[1].split("</tr>")[0]
    assert "Expired" in queue_row and "Queue: 客服组" in queue_row
    # the newest due first
    assert html.index(f'id="record-{open_.pk}"') < html.index(f'id="record-{completed.pk}"')
    # a single one is counted in the singular
    assert count_text(page("demo.director", client_as, status="done")) == "1 follow-up"


def test_the_empty_list_says_so(scoped, client_as):
    html = page("demo.director", client_as)
    assert count_text(html) == "0 follow-ups" and 'id="records-empty"' in html and "No follow-ups yet" in html
    filtered = page("demo.director", client_as, status="done")
    assert "No follow-ups match the filter." in filtered


def test_who_sees_what_and_the_analyst_reads_masked(scoped, client_as):
    mine = followup("王芳")
    queue = followup("赵敏", assignee=None, department="客服组")
    managers = followup("李强", assignee="demo.manager")
    directors = followup("北京宏达物流有限公司", assignee="demo.director")
    every = (mine, queue, managers, directors)

    assert shown(page("demo.director", client_as), *every) == {f.pk for f in every}
    assert shown(page("demo.analyst", client_as), *every) == {f.pk for f in every}
    # the specialist: their own and their team's queue, not a colleague's
    specialist = page("demo.specialist", client_as)
    assert shown(specialist, *every) == {mine.pk, queue.pk}
    assert count_text(specialist) == "2 follow-ups"
    # the manager: their team's people and queue; the director's is outside it
    assert shown(page("demo.manager", client_as), *every) == {mine.pk, queue.pk, managers.pk}
    # what the specialist is not shown they cannot open either
    assert client_as("demo.specialist").get(reverse("service:followup", args=[managers.pk])).status_code == 404

    mobile = mine.customer.mobile
    analyst = page("demo.analyst", client_as)
    assert mask_mobile(mobile) in analyst and display_mobile(mobile) not in analyst
    assert f'href="{reverse("service:followup", args=[mine.pk])}"' in analyst  # they may read it (masked)
    assert display_mobile(mobile) in page("demo.specialist", client_as)


def test_another_tenants_follow_ups_are_never_shown(scoped, client_as):
    mine = followup("王芳")
    acme = Tenant.objects.get(slug="acme")
    with scope(tenant=acme):
        theirs = list(FollowUp.objects.all())
        assert theirs  # tests/service/fixtures.py gives each tenant one
    demo_page = page("demo.director", client_as)
    assert not shown(demo_page, *theirs) and count_text(demo_page) == "1 follow-up"
    acme_page = page("acme.director", client_as)
    assert not shown(acme_page, mine) and shown(acme_page, *theirs) == {f.pk for f in theirs}
    # an id of the other tenant's plan or staff is no valid choice here
    with scope(tenant=acme):
        acme_plan = FollowUpPlan.objects.order_by("pk").first()
    refused = page("demo.director", client_as, plan=acme_plan.pk)
    assert count_text(refused) == "0 follow-ups" and "Select a valid choice" in refused


def test_status_due_plan_assignee_and_queue_filters(scoped, client_as):
    early = followup("王芳", due=date(2026, 3, 1))
    late = followup("李强", due=date(2026, 3, 31), assignee="demo.manager")
    queue = followup("赵敏", due=date(2026, 4, 1), assignee=None, department="客服组",
                     plan="新车交车3日回访")
    done(early, at(date(2026, 3, 1), 9))
    every = (early, late, queue)

    def listed(**params):
        return shown(page("demo.director", client_as, **params), *every)

    assert listed(status="done") == {early.pk}
    assert listed(status="open") == {late.pk, queue.pk}
    assert listed(due_after="2026-03-01", due_before="2026-03-31") == {early.pk, late.pk}  # both days included
    assert listed(due_after="2026-03-31") == {late.pk, queue.pk}
    assert listed(due_before="2026-03-01") == {early.pk}
    assert listed(plan=FollowUpPlan.objects.get(name="新车交车3日回访").pk) == {queue.pk}
    assert listed(assignee="none") == {queue.pk}
    assert listed(assignee=staff("demo.manager").pk) == {late.pk}
    assert listed(department=Department.objects.get(name="客服组").pk) == {queue.pk}
    assert listed(status="open", due_after="2026-04-01") == {queue.pk}
    # the form shows what was asked for
    html = page("demo.director", client_as, due_after="2026-03-01", status="done")
    assert 'name="due_after" value="2026-03-01"' in html
    assert '<option value="done" selected>' in html


def test_the_state_overdue_is_the_team_pages(scoped, client_as):
    today = scoped.today()
    overdue = followup("王芳", due=today - timedelta(days=1))
    retrying = followup("李强", due=today - timedelta(days=2), retry_at=at(today, 18))
    due_today = followup("赵敏", due=today)
    closed_late = done(followup("北京宏达物流有限公司", due=today - timedelta(days=5)), at(today, 9))
    every = (overdue, retrying, due_today, closed_late)

    def listed(username="demo.director", **params):
        return shown(page(username, client_as, **params), *every)

    assert listed(state="overdue") == {overdue.pk}
    assert listed(state="today") == {due_today.pk}
    assert listed(state="retries") == {retrying.pk}
    # the same follow-ups the team page lists as overdue, for the same manager
    team = client_as("demo.manager").get(reverse("service:team"), {"state": "overdue"}).content.decode()
    on_team = {f.pk for f in every if f'name="ids" value="{f.pk}"' in team}
    assert listed("demo.manager", state="overdue") == on_team == {overdue.pk}


def test_on_time_is_the_due_day_on_the_tenants_clock(scoped, client_as):
    """Closed at 23:30 in Shanghai on the due day is on time (15:30 UTC, the same day in UTC too); at 00:30 the next
    day it is late — though it is still the due day in UTC (16:30 UTC)."""
    due = date(2026, 5, 10)
    on_time = done(followup("王芳", due=due), at(due, 23, 30))
    late = done(followup("李强", due=due, assignee="demo.manager"), at(due + timedelta(days=1), 0, 30))
    early = done(followup("赵敏", due=due, assignee=None, department="客服组"), at(due - timedelta(days=1), 15))
    still_open = followup("北京宏达物流有限公司", due=due)
    every = (on_time, late, early, still_open)

    def listed(**params):
        return shown(page("demo.director", client_as, **params), *every)

    assert listed(timing="on_time") == {on_time.pk, early.pk}
    assert listed(timing="late") == {late.pk}
    assert late.closed_at.astimezone(ZoneInfo("UTC")).date() == due  # what a UTC clock would call on time
    # the tile's number: the report's rollup counts the same follow-ups on time as this list does
    from analytics.models import FollowUpDay
    from analytics.services.followup_rollups import followup_rollups_refresh

    followup_rollups_refresh(tenant=scoped, start=due, end=due)
    rolled = FollowUpDay.objects.filter(day=due).aggregate(on_time=Sum("on_time"), done=Sum("done"))
    html = page("demo.director", client_as, timing="on_time", due_after=due.isoformat(), due_before=due.isoformat())
    assert count_text(html) == f"{rolled['on_time']} follow-ups" == "2 follow-ups"
    assert count_text(page("demo.director", client_as, status="done", due_after=due.isoformat(),
                           due_before=due.isoformat())) == f"{rolled['done']} follow-ups"


def test_bad_filter_input_shows_the_errors_and_no_rows(scoped, client_as):
    f = followup("王芳")
    for params in ({"status": "bogus"}, {"due_after": "not-a-date"}, {"due_before": "2026-13-45"},
                   {"timing": "sometimes"}, {"state": "'; drop table"}, {"assignee": "abc"},
                   {"assignee": "99999999999999999999"}, {"department": "x"}, {"plan": "-1"},
                   {"after": "garbage-cursor"}):
        response = client_as("demo.director").get(URL, params)
        assert response.status_code == 200, params
        html = response.content.decode()
        if "after" in params:  # a mangled page link shows the first page
            assert shown(html, f) == {f.pk}
            continue
        assert not shown(html, f), params
        assert count_text(html) == "0 follow-ups", params
        assert re.search(r"invalid-feedback|Select a valid choice|Enter a valid date", html), params


def test_the_page_is_for_every_role_and_in_their_navigation(scoped, client_as, new_staff, demo):
    followup("王芳")
    for username in ("demo.director", "demo.manager", "demo.specialist", "demo.analyst"):
        response = client_as(username).get(URL)
        assert response.status_code == 200, username
        nav = response.content.decode().split('id="main-nav"')[1].split("</nav>")[0]
        assert f'aria-current="page" href="{URL}">Follow-up records</a>' in nav, username
    assert client_as("demo.admin").get(URL).status_code == 403  # the tenant administrator holds no position
    new_staff(demo, "demo.newcomer")
    assert client_as("demo.newcomer").get(URL).status_code == 403
    anonymous = client_as(None).get(URL)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert client_as("demo.director").post(URL).status_code == 405  # read-only
    # the workspace links to it
    assert 'id="records-link"' in client_as("demo.specialist").get(reverse("service:followups")).content.decode()


def test_the_records_cost_the_same_queries_for_more_rows(scoped, client_as):
    client = client_as("demo.manager")
    followup("王芳")
    client.get(URL)  # warm the per-process caches (the staff directory, the plans)
    with CaptureQueriesContext(connection) as one:
        assert count_text(page(client)) == "1 follow-up"
    names = ("王芳", "李强", "赵敏", "北京宏达物流有限公司")
    today = scoped.today()
    for n in range(40):
        followup(names[n % 4], due=today - timedelta(days=n + 1), occasion=today - timedelta(days=n + 100),
                 assignee=("demo.specialist", "demo.manager", None)[n % 3], department="客服组")
    with CaptureQueriesContext(connection) as many:
        assert count_text(page(client)) == "41 follow-ups"
    assert len(many.captured_queries) == len(one.captured_queries)


def test_the_pages_follow_one_another_without_losing_the_filter(scoped, client_as, monkeypatch):
    from service.selectors import followups as selectors

    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    today = scoped.today()
    made = [followup("王芳", due=today - timedelta(days=n), occasion=today - timedelta(days=n + 10))
            for n in range(5)]
    client = client_as("demo.director")
    first = page(client, status="open")
    assert shown(first, *made) == {made[0].pk, made[1].pk} and count_text(first) == "5 follow-ups"
    cursor = re.search(r'rel="next" href="\?([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "status=open" in cursor
    second = client.get(f"{URL}?{cursor}").content.decode()
    assert shown(second, *made) == {made[2].pk, made[3].pk} and count_text(second) == "5 follow-ups"
