"""Scopes per resource and the deletions feed: what a credential reaches, as the integration would notice it."""

from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_scopes import scope

from accounts.models import Staff
from api.models import ApiCredential, Tombstone
from customers.models import Vehicle
from customers.services import customers as customer_services
from customers.services.merge import customer_merge

pytestmark = pytest.mark.django_db


def test_a_resource_left_out_is_refused_with_the_reason(demo, api_token, api_client):
    client = api_client(api_token(demo, scopes={"leads": "read"}))
    refused = client.get("/api/v1/customers/")
    assert refused.status_code == 403
    assert "no access" in refused.json()["detail"]
    assert api_client(api_token(demo, scopes={"customers": "read"})).get("/api/v1/customers/").status_code == 200


def test_read_scope_cannot_write(demo, api_token, api_client):
    client = api_client(api_token(demo, scopes={"customers": "read"}))
    refused = client.post("/api/v1/customers/", {}, content_type="application/json")
    assert refused.status_code == 403
    assert "not change" in refused.json()["detail"]


def test_a_read_only_credential_cannot_hold_a_write_scope(demo):
    with scope(tenant=demo):
        credential = ApiCredential(tenant=demo, name="x", prefix="abcdefgh", secret_hash="0" * 64, read_only=True,
                                   scopes={"customers": "write"})
        with pytest.raises(Exception, match="read-only credential cannot write"):
            credential.full_clean()
        credential.scopes = {"nonsense": "read"}
        with pytest.raises(Exception, match="each resource"):
            credential.full_clean()
        credential.scopes = {}
        with pytest.raises(Exception, match="at least one"):
            credential.full_clean()


def test_the_command_takes_scopes(demo, capsys):
    call_command("create_api_credential", tenant="demo", name="BI", read_only=True, scope=["customers", "surveys"])
    with scope(tenant=demo):
        assert ApiCredential.objects.get(name="BI").scopes == {"customers": "read", "surveys": "read"}
    with pytest.raises(Exception, match="--scope"):
        call_command("create_api_credential", tenant="demo", name="BI2", scope=["customers:admin"])


def test_the_admin_sets_the_access_per_resource(demo, client_as):
    admin = client_as("demo.admin")
    form = admin.get("/admin/api/apicredential/add/")
    assert form.status_code == 200
    assert "Survey invitations and responses" in form.content.decode()
    answer = admin.post("/admin/api/apicredential/add/", {
        "name": "Telephony", "scope_followups": "write", "scope_customers": "read", "allowed_networks": ""})
    assert answer.status_code == 200 and "shown only" in answer.content.decode().lower() or "token" in \
        answer.content.decode().lower()
    with scope(tenant=demo):
        assert ApiCredential.objects.get(name="Telephony").scopes == {"customers": "read", "followups": "write"}
    refused = admin.post("/admin/api/apicredential/add/", {"name": "Bad", "read_only": "on",
                                                            "scope_customers": "write", "allowed_networks": ""})
    assert "cannot write" in refused.content.decode()
    with scope(tenant=demo):
        assert not ApiCredential.objects.filter(name="Bad").exists()


def test_a_deleted_vehicle_and_a_merged_customer_leave_tombstones(demo, acme, api_token, api_client):
    with scope(tenant=demo):
        owner = Staff.objects.get(user__username="demo.specialist")
        survivor, merged = (customer_services.customer_create(tenant=demo, data={"name": name, "mobile": mobile,
                                                                                 "owner": owner})
                            for name, mobile in (("甲", "13700000001"), ("乙", "13700000002")))
        customer_merge(survivor=survivor, merged=merged, by=None)
        vehicle = customer_services.vehicle_add(customer=survivor, vin="LFV3A23CXJ3000088", model_name="x")
        vehicle_id = vehicle.pk
        Vehicle.objects.filter(pk=vehicle_id).delete()
    rows = api_client(api_token(demo)).get("/api/v1/deletions/?resource=customers").json()["results"]
    assert {"resource": "customers", "kind": "customer", "id": merged.pk, "replaced_by": survivor.pk} \
        .items() <= next(r for r in rows if r["kind"] == "customer").items()
    assert vehicle_id in {r["id"] for r in rows if r["kind"] == "vehicle"}
    # the merged customer is gone from the list, the survivor stays
    listed = {r["id"] for r in api_client(api_token(demo)).get("/api/v1/customers/?limit=500").json()["results"]}
    assert merged.pk not in listed and survivor.pk in listed
    # another tenant sees none of them; a credential without customers sees none either
    theirs = api_client(api_token(acme)).get("/api/v1/deletions/").json()["results"]
    with scope(tenant=demo):
        ours = set(Tombstone.objects.values_list("pk", flat=True))
    assert not {r["id"] for r in theirs} & {merged.pk, vehicle_id}
    assert ours
    assert api_client(api_token(demo, scopes={"leads": "read"})).get("/api/v1/deletions/").json()["results"] == []
    assert api_client(api_token(demo, scopes={"leads": "read"})).get(
        "/api/v1/deletions/?resource=customers").status_code == 403
    assert api_client(api_token(demo)).get("/api/v1/deletions/?resource=x").status_code == 400


def test_a_merge_moves_the_history_where_a_sync_by_updated_since_finds_it(demo, api_token, api_client):
    with scope(tenant=demo):
        owner = Staff.objects.get(user__username="demo.specialist")
        survivor, merged = (customer_services.customer_create(tenant=demo, data={"name": name, "mobile": mobile,
                                                                                 "owner": owner})
                            for name, mobile in (("丙", "13700000003"), ("丁", "13700000004")))
        vehicle = customer_services.vehicle_add(customer=merged, vin="LFV3A23CXJ3000088", model_name="x")
        synced_until = timezone.now()
        customer_merge(survivor=survivor, merged=merged, by=None)
    since = quote(synced_until.isoformat())
    rows = api_client(api_token(demo)).get(f"/api/v1/vehicles/?updated_since={since}").json()["results"]
    assert [row["customer"]["id"] for row in rows if row["id"] == vehicle.pk] == [survivor.pk]
