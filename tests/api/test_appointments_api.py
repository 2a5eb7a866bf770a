"""/api/v1/appointments/: every appointment of the tenant with the appointment page's filters (advisor, status,
kind) and `?customer=`, `updated_since`; the "appointments" scope; another tenant's appointment is a 404 and never
listed; one deleted in the administration is in /api/v1/deletions/; a fixed number of queries."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope

from service.models import Appointment
from tests.api.reading import check_fixed_queries, check_other_tenant, check_scope_refused, ids_of, walk

pytestmark = pytest.mark.django_db
LIST = "/api/v1/appointments/"


def first(tenant):
    with scope(tenant=tenant):
        return Appointment.objects.select_related("customer", "advisor__user").order_by("pk").first()


def test_every_appointment_with_customer_and_advisor(demo, api_token, api_client):
    one = first(demo)
    client = api_client(api_token(demo))
    rows = {row["id"]: row for row in walk(client, LIST)}
    assert set(rows) == ids_of(demo, Appointment)
    row = client.get(f"{LIST}{one.pk}/").json()
    assert row == rows[one.pk]
    assert row["customer"] == {"id": one.customer_id, "name": one.customer.name}
    assert row["advisor"] == {"id": one.advisor_id, "name": one.advisor.user.display_name}
    assert (row["status"], row["kind"], row["note"], row["duration_minutes"]) == (
        one.status, one.kind, one.note, 60)
    assert row["starts_at"].startswith(timezone.localtime(one.starts_at, demo.zone).strftime("%Y-%m-%dT%H:%M"))


def test_the_pages_filters_customer_and_updated_since(demo, api_token, api_client):
    one = first(demo)
    client = api_client(api_token(demo))
    assert {r["id"] for r in walk(client, LIST, advisor=one.advisor_id)} == ids_of(demo, Appointment,
                                                                                   advisor=one.advisor_id)
    assert {r["id"] for r in walk(client, LIST, status=one.status)} == ids_of(demo, Appointment, status=one.status)
    assert {r["id"] for r in walk(client, LIST, customer=one.customer_id)} == ids_of(
        demo, Appointment, customer=one.customer_id)
    assert client.get(LIST, {"kind": "nope"}).status_code == 400
    moment = timezone.now() + timedelta(hours=1)
    with scope(tenant=demo):
        Appointment.objects.filter(pk=one.pk).update(updated_at=moment)
    assert [r["id"] for r in walk(client, LIST, updated_since=moment.isoformat())] == [one.pk]


def test_a_deleted_appointment_is_in_the_deletions(demo, api_token, api_client):
    one = first(demo)
    with scope(tenant=demo):
        Appointment.objects.get(pk=one.pk).delete()  # the administration's delete
    client = api_client(api_token(demo))
    gone = client.get("/api/v1/deletions/", {"resource": "appointments"}).json()["results"]
    assert [(d["kind"], d["id"]) for d in gone] == [("appointment", one.pk)]
    assert client.get(f"{LIST}{one.pk}/").status_code == 404


def test_scopes_other_tenants_and_queries(demo, acme, api_token, api_client, django_assert_max_num_queries):
    one = first(demo)
    check_scope_refused(api_client, api_token, demo, "appointments", LIST, f"{LIST}{one.pk}/")
    check_other_tenant(api_client, api_token, demo, acme, Appointment, LIST)
    check_fixed_queries(api_client(api_token(demo)), LIST, f"{LIST}{one.pk}/", django_assert_max_num_queries)
