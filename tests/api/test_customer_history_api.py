"""/api/v1/vehicles/, /api/v1/purchases/, /api/v1/service-visits/ and the customer's detail with their purchases and
service visits: a cancelled or refunded one stays, with its cancelled_at; `?customer=`; `updated_since`; the
resource "customers" decides; another tenant's rows are 404 and never listed; a fixed number of queries."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_scopes import scope

from accounts.models import Staff
from customers.models import Customer, Purchase, ServiceVisit, Vehicle
from customers.services import customers as services
from tests.api.reading import check_fixed_queries, check_other_tenant, check_scope_refused, ids_of, walk

pytestmark = pytest.mark.django_db
VEHICLES, PURCHASES, VISITS = "/api/v1/vehicles/", "/api/v1/purchases/", "/api/v1/service-visits/"


@pytest.fixture
def li_history(demo):
    """李强's purchase (2019) and first maintenance (2019) of the seed, a second purchase, cancelled."""
    with scope(tenant=demo):
        li = Customer.objects.get(name="李强")
        manager = Staff.objects.get(user__username="demo.manager")
        second = services.purchase_record(customer=li, contract_on=date(2020, 5, 1), amount=Decimal("99000.50"),
                                          consultant=manager)
        services.purchase_cancel(purchase=second, staff=manager, reason="退订")
        return li, Purchase.objects.get(pk=second.pk)


def test_the_customer_detail_holds_purchases_and_visits_cancelled_ones_included(demo, api_token, api_client,
                                                                               li_history):
    li, cancelled = li_history
    body = api_client(api_token(demo)).get(f"/api/v1/customers/{li.pk}/").json()
    purchases = body["purchases"]
    assert [(p["contract_on"], p["amount"]) for p in purchases] == [("2020-05-01", "99000.50"),
                                                                   ("2019-03-01", "128000.00")]
    assert purchases[0]["cancelled_at"] and purchases[1]["cancelled_at"] is None
    assert purchases[0]["consultant"]["id"] == cancelled.consultant_id and purchases[0]["consultant"]["name"]
    assert [(v["opened_on"], v["visit_type"], v["mileage_km"], v["cancelled_at"]) for v in body["service_visits"]] \
        == [("2019-09-01", "first", 5000, None)]
    assert body["vehicles"][0]["vin"] == "LSVAU2180N2000002"


def test_the_lists_hold_every_row_with_the_customer(demo, api_token, api_client, li_history):
    li, cancelled = li_history
    client = api_client(api_token(demo))
    purchases = walk(client, PURCHASES)
    assert {row["id"] for row in purchases} == ids_of(demo, Purchase)
    row = next(r for r in purchases if r["id"] == cancelled.pk)
    assert row["customer"] == {"id": li.pk, "name": "李强"} and row["cancelled_at"]
    visits = walk(client, VISITS)
    assert {row["id"] for row in visits} == ids_of(demo, ServiceVisit)
    assert {(r["customer"]["name"], r["visit_type"]) for r in visits} >= {("李强", "first")}
    vehicles = walk(client, VEHICLES)
    assert {row["id"] for row in vehicles} == ids_of(demo, Vehicle)
    assert {(r["customer"]["name"], r["plate"]) for r in vehicles} >= {("王芳", "京A12345"), ("李强", "京B67890")}


def test_one_customers_rows_and_updated_since(demo, api_token, api_client, li_history):
    li, cancelled = li_history
    client = api_client(api_token(demo))
    with scope(tenant=demo):
        wang = Customer.objects.get(name="王芳")
    assert {r["customer"]["id"] for r in walk(client, PURCHASES, customer=li.pk)} == {li.pk}
    assert walk(client, PURCHASES, customer=wang.pk) == []
    assert [r["plate"] for r in walk(client, VEHICLES, customer=wang.pk)] == ["京A12345"]
    assert client.get(PURCHASES, {"customer": "x"}).status_code == 400
    moment = timezone.now() + timedelta(hours=1)
    with scope(tenant=demo):
        Purchase.objects.filter(pk=cancelled.pk).update(updated_at=moment)
    assert [r["id"] for r in walk(client, PURCHASES, updated_since=moment.isoformat())] == [cancelled.pk]


def test_a_read_only_credential_reads_the_history_too(demo, api_token, api_client, li_history):
    li, _cancelled = li_history
    body = api_client(api_token(demo, read_only=True)).get(f"/api/v1/customers/{li.pk}/").json()
    assert body["masked"] is True and body["mobile"] == "139****4321"
    assert len(body["purchases"]) == 2 and body["name"] == "李强"


@pytest.mark.parametrize("url,model", [(VEHICLES, Vehicle), (PURCHASES, Purchase), (VISITS, ServiceVisit)])
def test_scopes_other_tenants_and_queries(demo, acme, api_token, api_client, django_assert_max_num_queries,
                                          li_history, url, model):
    first = min(ids_of(demo, model))
    check_scope_refused(api_client, api_token, demo, "customers", url, f"{url}{first}/")
    check_other_tenant(api_client, api_token, demo, acme, model, url)
    with scope(tenant=demo):
        li = Customer.objects.get(name="李强")
        vehicle = services.vehicle_add(customer=li, vin="LSVAU2188N2000099", plate="京C11111", model_name="帕萨特")
        for n in range(3):
            services.purchase_record(customer=li, contract_on=date(2021, 2, 1 + n), amount=Decimal("1000"),
                                     vehicle=vehicle)
            services.visit_record(customer=li, opened_on=date(2021, 1, 1 + n), visit_type="routine",
                                  amount=Decimal("300"), vehicle=vehicle, advisor=Staff.objects.get(
                                      user__username="demo.specialist"))
    check_fixed_queries(api_client(api_token(demo)), url, f"{url}{first}/", django_assert_max_num_queries)


def test_the_customer_detail_costs_a_fixed_number_of_queries(demo, api_token, api_client, li_history,
                                                             django_assert_max_num_queries):
    li, _cancelled = li_history
    client = api_client(api_token(demo))
    client.get("/api/v1/customers/")
    with django_assert_max_num_queries(10):
        assert len(client.get(f"/api/v1/customers/{li.pk}/").json()["purchases"]) == 2
