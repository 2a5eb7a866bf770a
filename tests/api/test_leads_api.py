"""/api/v1/leads/: every lead of the tenant with the lead list page's filters, `updated_since`; the mobile masked for
a read-only credential (as a data analyst sees it), the name kept; the "leads" scope; another tenant's lead is a 404
and never listed; a fixed number of queries."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope

from accounts.models import Staff
from customers.models import Lead
from customers.services.leads import Assign, lead_register
from tests.api.reading import check_fixed_queries, check_other_tenant, check_scope_refused, ids_of, walk

pytestmark = pytest.mark.django_db
LIST = "/api/v1/leads/"


def seeded(tenant):
    with scope(tenant=tenant):
        return Lead.objects.get(name="陈静")


def more_leads(tenant, count=3):
    with scope(tenant=tenant):
        specialist = Staff.objects.get(user__username=f"{tenant.slug}.specialist")
        return [lead_register(tenant=tenant, staff=specialist, assign=Assign.SELF, data={
            "name": f"线索{n}", "mobile": f"1360000000{n}", "channel": "walk_in", "model_interest": "途观"})
            for n in range(count)]


def test_a_lead_in_full(demo, api_token, api_client):
    lead = seeded(demo)
    client = api_client(api_token(demo))
    rows = walk(client, LIST)
    assert {row["id"] for row in rows} == ids_of(demo, Lead)
    body = client.get(f"{LIST}{lead.pk}/").json()
    assert body["name"] == "陈静" and body["mobile"] == "+8613700001111" and body["masked"] is False
    assert (body["channel"], body["platform"], body["external_id"], body["status"]) == (
        "online", "汽车之家", "QC-0001", lead.status)
    assert body["note"] == "想了解置换优惠" and body["consultant"]["id"] == lead.consultant_id
    assert body["consultant"]["name"] == lead.consultant.user.display_name


def test_a_read_only_credential_sees_the_mobile_masked(demo, api_token, api_client):
    lead = seeded(demo)
    client = api_client(api_token(demo, read_only=True))
    body = client.get(f"{LIST}{lead.pk}/").json()
    assert body["mobile"] == "137****1111" and body["name"] == "陈静" and body["masked"] is True
    assert all("13700001111" not in str(row) for row in walk(client, LIST))


def test_the_lead_pages_filters_and_updated_since(demo, api_token, api_client):
    made = more_leads(demo)
    client = api_client(api_token(demo))
    assert {r["name"] for r in walk(client, LIST, channel="online")} == {"陈静"}
    assert {r["name"] for r in walk(client, LIST, model_interest="途观")} == {"线索0", "线索1", "线索2"}
    assert client.get(LIST, {"status": "nope"}).status_code == 400
    moment = timezone.now() + timedelta(hours=1)
    with scope(tenant=demo):
        Lead.objects.filter(pk=made[1].pk).update(updated_at=moment)
    assert [r["name"] for r in walk(client, LIST, updated_since=moment.isoformat())] == ["线索1"]


def test_scopes_other_tenants_and_queries(demo, acme, api_token, api_client, django_assert_max_num_queries):
    lead = seeded(demo)
    check_scope_refused(api_client, api_token, demo, "leads", LIST, f"{LIST}{lead.pk}/")
    check_other_tenant(api_client, api_token, demo, acme, Lead, LIST)
    more_leads(demo)
    check_fixed_queries(api_client(api_token(demo)), LIST, f"{LIST}{lead.pk}/", django_assert_max_num_queries)
