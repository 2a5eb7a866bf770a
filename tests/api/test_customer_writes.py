"""POST /api/v1/customers/ and PATCH /api/v1/customers/{id}/: a customer added or changed by another system through
the archive's services — the customer form's checks (a 400 by field), the customer's history, another tenant's
customer, staff or team refused; the DMS number unique in the company, on the pages too."""

import pytest
from django.urls import reverse
from django_scopes import scope

from accounts.models import Department, Staff
from customers.models import Customer, Purchase
from customers.services import customers as services

pytestmark = pytest.mark.django_db
LIST = "/api/v1/customers/"


def staff_id(tenant, kind):
    with scope(tenant=tenant):
        return Staff.objects.get(user__username=f"{tenant.slug}.{kind}").pk


def desk_id(tenant):
    with scope(tenant=tenant):
        return Department.objects.get(name="客服组").pk


def test_a_customer_posted_is_in_the_archive_as_one_entered_on_the_page(demo, api_token, api_client):
    client = api_client(api_token(demo))
    response = client.post(LIST, {"name": "周杰", "mobile": "139 0000 1234", "dms_number": " D-1001 ",
                                  "owner": staff_id(demo, "specialist"), "tier": "a"}, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["mobile"] == "+8613900001234" and body["dms_number"] == "D-1001" and body["vehicles"] == []
    with scope(tenant=demo):
        customer = Customer.objects.get(pk=body["id"])
        assert (customer.name, customer.tier, customer.owner.user.username) == ("周杰", "a", "demo.specialist")
    # the detail reads it back
    assert client.get(f"{LIST}{body['id']}/").json()["dms_number"] == "D-1001"


def test_bad_input_is_a_400_by_field_and_writes_nothing(demo, api_token, api_client):
    client = api_client(api_token(demo))
    with scope(tenant=demo):
        before = Customer.objects.count()
    cases = [
        ({"mobile": "13900001234", "owner": staff_id(demo, "specialist")}, "name"),
        ({"name": "某人", "mobile": "12345", "owner": staff_id(demo, "specialist")}, "mobile"),
        ({"name": "某人", "mobile": "13900001235"}, "owner"),  # nobody would see them
        ({"name": "某人", "mobile": "13812345678", "department": desk_id(demo)}, "mobile"),  # 王芳's
        ({"name": "某人", "tier": "z", "department": desk_id(demo)}, "tier"),
        ({"name": "某人", "credit_grade": "AAA", "department": desk_id(demo)}, "credit_grade"),  # a person
        ({"name": "某人", "marketing_consent": True, "department": desk_id(demo)}, "consent_channel"),
        ({"name": "某人", "owner": 10**12}, "owner"),
    ]
    for data, field in cases:
        response = client.post(LIST, data, content_type="application/json")
        assert response.status_code == 400, (data, response.content)
        assert field in response.json(), (data, response.json())
    with scope(tenant=demo):
        assert Customer.objects.count() == before


def test_another_tenants_staff_team_or_customer_is_refused(demo, acme, api_token, api_client):
    client = api_client(api_token(demo))
    for field, value in (("owner", staff_id(acme, "specialist")), ("department", desk_id(acme))):
        response = client.post(LIST, {"name": "某人", field: value}, content_type="application/json")
        assert response.status_code == 400 and field in response.json()
    with scope(tenant=acme):
        theirs = Customer.objects.get(name="王芳")
    response = client.patch(f"{LIST}{theirs.pk}/", {"tier": "vip"}, content_type="application/json")
    assert response.status_code == 404
    with scope(tenant=acme):
        assert Customer.objects.get(pk=theirs.pk).tier != "vip"


def test_patch_changes_the_fields_sent_and_leaves_a_history_line(demo, api_token, api_client, client_as):
    client = api_client(api_token(demo))
    with scope(tenant=demo):
        wang = Customer.objects.get(name="王芳")
        owner_before = wang.owner_id
    response = client.patch(f"{LIST}{wang.pk}/", {"tier": "vip", "dms_number": "D-2001"},
                            content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["tier"] == "vip" and response.json()["name"] == "王芳"
    with scope(tenant=demo):
        wang = Customer.objects.get(pk=wang.pk)
        assert (wang.tier, wang.dms_number, wang.owner_id) == ("vip", "D-2001", owner_before)
    page = client_as("demo.director").get(reverse("customers:detail", args=[wang.pk])).content.decode()
    assert "D-2001" in page  # on the customer page, and in its history
    assert page.count("D-2001") >= 2


def test_a_dms_number_names_one_customer_in_the_api_and_on_the_pages(demo, acme, api_token, api_client, client_as):
    client = api_client(api_token(demo))
    with scope(tenant=demo):
        wang = Customer.objects.get(name="王芳")
        li = Customer.objects.get(name="李强")
        services.customer_update(customer=wang, data={"dms_number": "D-3001"})
    response = client.patch(f"{LIST}{li.pk}/", {"dms_number": "D-3001"}, content_type="application/json")
    assert response.status_code == 400 and "dms_number" in response.json()
    # the form says so next to the field
    page = client_as("demo.director").post(reverse("customers:edit", args=[li.pk]), {
        "kind": "person", "name": "李强", "mobile": "13987654321", "source": "walk_in", "tier": "b",
        "stage": "prospect", "dms_number": "D-3001", "owner": li.owner_id or "", "department": li.department_id or ""})
    assert page.status_code == 200
    assert "Another customer has this DMS number." in page.content.decode()
    # another company may use the same number
    with scope(tenant=acme):
        theirs = Customer.objects.get(name="王芳")
        services.customer_update(customer=theirs, data={"dms_number": "D-3001"})
        assert Customer.objects.get(pk=theirs.pk).dms_number == "D-3001"


def test_contract_numbers_and_repair_orders_are_unique_and_shown(demo, client_as):
    with scope(tenant=demo):
        wang = Customer.objects.get(name="王芳")
    director = client_as("demo.director")
    url = reverse("customers:purchase_add", args=[wang.pk])
    assert 'name="contract_number"' in director.get(url).content.decode()
    assert director.post(url, {"contract_on": "2026-03-01", "amount": "150000", "contract_number": "HT-77"}
                         ).status_code == 302
    again = director.post(url, {"contract_on": "2026-03-02", "amount": "1", "contract_number": "HT-77"})
    assert "Another purchase has this contract number." in again.content.decode()
    visit_url = reverse("customers:visit_add", args=[wang.pk])
    assert director.post(visit_url, {"opened_on": "2026-03-05", "visit_type": "routine", "amount": "680",
                                     "repair_order": "RO-9"}).status_code == 302
    again = director.post(visit_url, {"opened_on": "2026-03-06", "visit_type": "routine", "amount": "1",
                                       "repair_order": "RO-9"})
    assert "Another service visit has this repair order." in again.content.decode()
    page = director.get(reverse("customers:detail", args=[wang.pk])).content.decode()
    assert "HT-77" in page and "RO-9" in page
    with scope(tenant=demo):
        assert Purchase.objects.filter(contract_number="HT-77").count() == 1
