"""/api/v1/followups/ (with their calls in the detail) and /api/v1/calls/: every follow-up of the tenant with the
follow-up records page's filters, `updated_since`; staff by id and name; the "followups" scope; another tenant's
rows are 404 and never listed; a fixed number of queries."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope

from customers.models import Customer
from service.models import FollowUp, FollowUpCall
from tests.api.fixtures_read import CALL_NOTE, CALLED, completed_call
from tests.api.reading import check_fixed_queries, check_other_tenant, check_scope_refused, ids_of, walk

pytestmark = pytest.mark.django_db
LIST, CALLS = "/api/v1/followups/", "/api/v1/calls/"


def seeded(tenant, name):
    with scope(tenant=tenant):
        return FollowUp.objects.select_related("assignee__user", "plan").get(customer__name=name)


def more_calls(tenant, count=3):
    with scope(tenant=tenant):
        li = Customer.objects.get(name="李强")
        return [completed_call(tenant, li, tenant.today() - timedelta(days=400 + n), note=f"第{n}次")
                for n in range(count)]


def test_the_follow_ups_of_every_status_with_their_plan_assignee_and_last_outcome(demo, api_token, api_client):
    open_one, done = seeded(demo, "王芳"), seeded(demo, CALLED)
    rows = {row["id"]: row for row in walk(api_client(api_token(demo)), LIST)}
    assert set(rows) == ids_of(demo, FollowUp)
    wang = rows[open_one.pk]
    assert (wang["status"], wang["due_on"], wang["priority"], wang["last_outcome"]) == (
        "open", open_one.due_on.isoformat(), 1, None)
    assert wang["plan"] == {"id": open_one.plan_id, "name": "维修后2日回访"}
    assert wang["assignee"] == {"id": open_one.assignee_id, "name": open_one.assignee.user.display_name}
    assert wang["customer"]["name"] == "王芳"
    assert (rows[done.pk]["status"], rows[done.pk]["last_outcome"]) == ("done", "completed")


def test_one_follow_up_with_its_calls(demo, api_token, api_client):
    done = seeded(demo, CALLED)
    body = api_client(api_token(demo)).get(f"{LIST}{done.pk}/").json()
    assert [(c["outcome"], c["note"], c["staff"]["id"]) for c in body["calls"]] == [
        ("completed", CALL_NOTE, done.assignee_id)]
    calls = walk(api_client(api_token(demo)), CALLS)
    assert {c["id"] for c in calls} == ids_of(demo, FollowUpCall)
    call = next(c for c in calls if c["followup"] == done.pk)
    assert call["customer"]["name"] == CALLED and call["outcome"] == "completed"


def test_a_read_only_credential_reads_them_as_an_analyst(demo, api_token, api_client):
    done = seeded(demo, CALLED)
    body = api_client(api_token(demo, read_only=True)).get(f"{LIST}{done.pk}/").json()
    assert body["customer"]["name"] == CALLED and body["calls"][0]["note"] == CALL_NOTE  # as on the pages


def test_the_records_pages_filters_and_updated_since(demo, api_token, api_client):
    open_one, done = seeded(demo, "王芳"), seeded(demo, CALLED)
    client = api_client(api_token(demo))
    assert [r["id"] for r in walk(client, LIST, status="open")] == [open_one.pk]
    assert [r["id"] for r in walk(client, LIST, assignee=open_one.assignee_id, status="done")] == [done.pk]
    assert [r["id"] for r in walk(client, LIST, due_after=done.due_on.isoformat(),
                                  due_before=done.due_on.isoformat())] == [done.pk]
    assert client.get(LIST, {"status": "nope"}).status_code == 400
    made = more_calls(demo)
    assert [c["note"] for c in walk(client, CALLS, followup=made[0].followup_id)] == ["第0次"]
    assert {c["note"] for c in walk(client, CALLS, outcome="completed")} >= {CALL_NOTE, "第0次"}
    moment = timezone.now() + timedelta(hours=1)
    with scope(tenant=demo):
        FollowUp.objects.filter(pk=open_one.pk).update(updated_at=moment)
        FollowUpCall.objects.filter(pk=made[2].pk).update(updated_at=moment)
    assert [r["id"] for r in walk(client, LIST, updated_since=moment.isoformat())] == [open_one.pk]
    assert [r["id"] for r in walk(client, CALLS, updated_since=moment.isoformat())] == [made[2].pk]


@pytest.mark.parametrize("url,model", [(LIST, FollowUp), (CALLS, FollowUpCall)])
def test_scopes_other_tenants_and_queries(demo, acme, api_token, api_client, django_assert_max_num_queries,
                                          url, model):
    first = min(ids_of(demo, model))
    check_scope_refused(api_client, api_token, demo, "followups", url, f"{url}{first}/")
    check_other_tenant(api_client, api_token, demo, acme, model, url)
    more_calls(demo)
    check_fixed_queries(api_client(api_token(demo)), url, f"{url}{first}/", django_assert_max_num_queries)
