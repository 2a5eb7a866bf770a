"""/api/v1/complaints/: every complaint of the tenant (not only the unresolved ones the page opens on) with the
complaint list page's filters, `updated_since`; the detail with its history, each line worded as the page words it;
what the customer said as the page shows it to a data analyst; the "complaints" scope; another tenant's complaint
is a 404 and never listed; a fixed number of queries."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope

from accounts.models import Staff
from customers.models import Customer
from service.models import Complaint
from service.services import complaints as services
from tests.api.reading import check_fixed_queries, check_other_tenant, check_scope_refused, ids_of, walk

pytestmark = pytest.mark.django_db
LIST = "/api/v1/complaints/"


def seeded(tenant):
    with scope(tenant=tenant):
        return Complaint.objects.select_related("owner__user").get(summary="保养后发动机异响")


def more_complaints(tenant, count=3):
    with scope(tenant=tenant):
        specialist = Staff.objects.get(user__username=f"{tenant.slug}.specialist")
        made = []
        for n in range(count):
            made.append(services.complaint_register(tenant=tenant, actor=specialist, complaint=Complaint(
                customer=Customer.objects.get(name="李强"), channel="walk_in", severity="major",
                summary=f"投诉{n}", description="等待时间太长", owner=specialist)))
        return made


def test_a_complaint_with_its_history(demo, api_token, api_client):
    complaint = seeded(demo)
    body = api_client(api_token(demo)).get(f"{LIST}{complaint.pk}/").json()
    assert (body["summary"], body["description"], body["status"], body["channel"], body["severity"]) == (
        "保养后发动机异响", "上周保养后车辆启动时有异响。", "new", "phone", "normal")
    assert body["customer"]["name"] == "王芳" and body["category"]["name"] == "维修质量"
    assert body["owner"] == {"id": complaint.owner_id, "name": complaint.owner.user.display_name}
    assert body["response_due"] and body["responded_at"] is None
    [opened] = body["events"]
    assert opened["kind"] == "opened" and opened["actor"]["id"] == complaint.owner_id
    assert "Phone" in opened["details"] and "Normal" in opened["details"]  # the system's note, worded


def test_every_complaint_is_listed_and_the_pages_filters_apply(demo, api_token, api_client):
    complaint = seeded(demo)
    made = more_complaints(demo)
    with scope(tenant=demo):
        Complaint.objects.filter(pk=made[0].pk).update(status="closed", closed_at=timezone.now())
    client = api_client(api_token(demo))
    assert {r["id"] for r in walk(client, LIST)} == ids_of(demo, Complaint)  # the closed one too
    assert {r["id"] for r in walk(client, LIST, state="closed")} == {made[0].pk}
    assert {r["id"] for r in walk(client, LIST, severity="major", state="unresolved")} == {m.pk for m in made[1:]}
    assert {r["id"] for r in walk(client, LIST, owner=complaint.owner_id)} == {complaint.pk, *(m.pk for m in made)}
    assert client.get(LIST, {"state": "nope"}).status_code == 400
    moment = timezone.now() + timedelta(hours=1)
    with scope(tenant=demo):
        Complaint.objects.filter(pk=made[2].pk).update(updated_at=moment)
    assert [r["id"] for r in walk(client, LIST, updated_since=moment.isoformat())] == [made[2].pk]


def test_a_read_only_credential_reads_it_as_a_data_analyst_does(demo, api_token, api_client, client_as):
    complaint = seeded(demo)
    body = api_client(api_token(demo, read_only=True)).get(f"{LIST}{complaint.pk}/").json()
    page = client_as("demo.analyst").get(f"/service/complaints/{complaint.pk}/").content.decode()
    # the analyst's page shows the customer's name and what they said, their mobile masked: no mobile here at all
    assert "上周保养后车辆启动时有异响。" in page and "13812345678" not in page
    assert body["description"] == "上周保养后车辆启动时有异响。" and body["customer"]["name"] == "王芳"
    assert "13812345678" not in str(body)


def test_scopes_other_tenants_and_queries(demo, acme, api_token, api_client, django_assert_max_num_queries):
    complaint = seeded(demo)
    check_scope_refused(api_client, api_token, demo, "complaints", LIST, f"{LIST}{complaint.pk}/")
    check_other_tenant(api_client, api_token, demo, acme, Complaint, LIST)
    more_complaints(demo)
    check_fixed_queries(api_client(api_token(demo)), LIST, f"{LIST}{complaint.pk}/", django_assert_max_num_queries)
