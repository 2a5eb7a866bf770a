"""Cancelling or refunding a purchase or a service visit: once, marked on the customer page and the timeline,
told to the other apps (the club reverses its points), and skipped by follow-up generation and surveys."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django_scopes import scope

from accounts.models import Staff
from customers import signals
from customers.models import Customer, Purchase, ServiceVisit
from customers.services import customers as services

pytestmark = pytest.mark.django_db


def li_qiang(tenant):
    with scope(tenant=tenant):
        return Customer.objects.get(name="李强")


def purchase_of(tenant, customer) -> Purchase:
    with scope(tenant=tenant):
        return Purchase.objects.filter(customer=customer).get()


def visit_of(tenant, customer) -> ServiceVisit:
    with scope(tenant=tenant):
        return ServiceVisit.objects.filter(customer=customer).get()


@pytest.fixture
def heard():
    """What the cancellation signals said, as a receiver of another app would hear it."""
    calls = []

    def receiver(sender, **kwargs):
        calls.append((sender, kwargs))

    signals.purchase_cancelled.connect(receiver, dispatch_uid="test-cancel-purchase")
    signals.visit_cancelled.connect(receiver, dispatch_uid="test-cancel-visit")
    yield calls
    signals.purchase_cancelled.disconnect(dispatch_uid="test-cancel-purchase")
    signals.visit_cancelled.disconnect(dispatch_uid="test-cancel-visit")


def test_cancel_marks_the_purchase_once_and_tells_the_other_apps(demo, heard):
    li = li_qiang(demo)
    purchase = purchase_of(demo, li)
    with scope(tenant=demo):
        staff = Staff.objects.get(user__username="demo.manager")
        services.purchase_cancel(purchase=purchase, staff=staff, reason="退车")
        with pytest.raises(ValidationError, match="already cancelled"):
            services.purchase_cancel(purchase=purchase, staff=staff)
    purchase.refresh_from_db()
    assert purchase.cancelled_at is not None
    assert len(heard) == 1
    sender, kwargs = heard[0]
    assert sender is Purchase and kwargs["instance"].pk == purchase.pk and kwargs["customer"].pk == li.pk
    assert kwargs["staff"] == staff and kwargs["reason"] == "退车"


def test_cancel_refuses_a_staff_member_of_another_tenant(demo, acme):
    purchase = purchase_of(demo, li_qiang(demo))
    with scope(tenant=acme):
        stranger = Staff.objects.get(user__username="acme.director")
    with scope(tenant=demo), pytest.raises(ValidationError):
        services.purchase_cancel(purchase=purchase, staff=stranger)
    purchase.refresh_from_db()
    assert purchase.cancelled_at is None


def test_cancel_a_purchase_from_the_customer_page(demo, client_as, heard):
    li = li_qiang(demo)
    purchase = purchase_of(demo, li)
    client = client_as("demo.manager")  # 李强's owner
    page = client.get(f"/customers/{li.pk}/").content.decode()
    dealings = page.split('id="dealings"', 1)[1].split("</ul>", 1)[0]
    assert f'href="/customers/purchases/{purchase.pk}/cancel/"' in dealings
    confirm = client.get(f"/customers/purchases/{purchase.pk}/cancel/").content.decode()
    assert "csrfmiddlewaretoken" in confirm and "128000" in confirm

    response = client.post(f"/customers/purchases/{purchase.pk}/cancel/", {"reason": "客户退订"})
    assert response.status_code == 302 and response["Location"] == f"/customers/{li.pk}/"
    purchase.refresh_from_db()
    assert purchase.cancelled_at is not None
    assert len(heard) == 1

    page = client.get(f"/customers/{li.pk}/").content.decode()
    row = page.split(f'id="purchase-{purchase.pk}"', 1)[1].split("</li>", 1)[0]
    assert "<del" in row and "Cancelled" in row
    assert "/cancel/" not in row  # nothing left to cancel
    assert "Purchase cancelled or refunded" in page.split('id="timeline"', 1)[1]

    again = client.post(f"/customers/purchases/{purchase.pk}/cancel/", {"reason": ""})
    assert again.status_code == 200 and "already cancelled" in again.content.decode()
    assert len(heard) == 1


def test_cancel_a_visit_from_the_page(demo, client_as, heard):
    li = li_qiang(demo)
    visit = visit_of(demo, li)
    client = client_as("demo.director")
    assert client.post(f"/customers/visits/{visit.pk}/cancel/", {"reason": "录错"}).status_code == 302
    visit.refresh_from_db()
    assert visit.cancelled_at is not None
    assert heard[0][0] is ServiceVisit
    page = client.get(f"/customers/{li.pk}/").content.decode()
    assert "Service visit cancelled or refunded" in page
    confirm = client.get(f"/customers/visits/{visit.pk}/cancel/").content.decode()
    assert 'id="cancel-done"' in confirm and 'id="cancel-confirm"' not in confirm


def test_who_may_not_change_the_customer_cannot_cancel(demo, client_as):
    li = li_qiang(demo)
    purchase = purchase_of(demo, li)
    # the analyst reads the customer (masked) but has no right to change purchases
    assert client_as("demo.analyst").post(f"/customers/purchases/{purchase.pk}/cancel/").status_code == 403
    page = client_as("demo.analyst").get(f"/customers/{li.pk}/").content.decode()
    assert "/cancel/" not in page and "128000" in page
    # the specialist does not see 李强 (the manager's customer): a 404, as for another tenant's purchase
    assert client_as("demo.specialist").post(f"/customers/purchases/{purchase.pk}/cancel/").status_code == 404
    assert client_as("acme.director").post(f"/customers/purchases/{purchase.pk}/cancel/").status_code == 404
    purchase.refresh_from_db()
    assert purchase.cancelled_at is None


def test_follow_ups_and_surveys_skip_a_cancelled_purchase(demo):
    """The occasions of follow-up generation and survey sending leave cancelled purchases and visits out."""
    from service.services.generation import OCCASIONS as FOLLOWUP_OCCASIONS
    from service.services.survey_sending import OCCASIONS as SURVEY_OCCASIONS

    li = li_qiang(demo)
    purchase, visit = purchase_of(demo, li), visit_of(demo, li)
    params = {"tenant": demo.pk, "lo": date(2019, 1, 1), "hi": date(2019, 12, 31)}

    def found(sql):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return len(cursor.fetchall())

    queries = [FOLLOWUP_OCCASIONS["purchase"], FOLLOWUP_OCCASIONS["visit"],
               SURVEY_OCCASIONS["purchase"], SURVEY_OCCASIONS["visit"]]
    assert [found(sql) for sql in queries] == [1, 1, 1, 1]
    with scope(tenant=demo):
        services.purchase_cancel(purchase=purchase, staff=None)
        services.visit_cancel(visit=visit, staff=None)
    assert [found(sql) for sql in queries] == [0, 0, 0, 0]


def test_a_cancelled_purchase_is_listed_struck_through_for_who_cannot_cancel(demo, client_as):
    li = li_qiang(demo)
    with scope(tenant=demo):
        services.purchase_record(customer=li, contract_on=date(2020, 5, 1), amount=Decimal("99000"))
    page = client_as("demo.analyst").get(f"/customers/{li.pk}/").content.decode()
    dealings = page.split('id="dealings"', 1)[1].split("</ul>", 1)[0]
    assert dealings.count("Purchase") == 2 and "99000" in dealings


def test_a_refunded_last_visit_no_longer_dates_the_customers_last_visit(demo):
    """The churn window and the "months after the last visit" follow-ups read last_visit_on: a cancelled or refunded
    visit or purchase is not a visit."""
    li = li_qiang(demo)
    with scope(tenant=demo):
        staff = Staff.objects.get(user__username="demo.manager")
        before = Customer.objects.get(pk=li.pk).last_visit_on
        later = services.visit_record(customer=li, vehicle=None, opened_on=date(2026, 11, 30), visit_type="routine",
                                      mileage_km=None, advisor=None, amount=Decimal("300"))
        assert Customer.objects.get(pk=li.pk).last_visit_on == date(2026, 11, 30)
        services.visit_cancel(visit=later, staff=staff, reason="退款")
        assert Customer.objects.get(pk=li.pk).last_visit_on == before
        for visit in ServiceVisit.objects.filter(customer=li, cancelled_at__isnull=True):
            services.visit_cancel(visit=visit, staff=staff, reason="退款")
        for purchase in Purchase.objects.filter(customer=li, cancelled_at__isnull=True):
            services.purchase_cancel(purchase=purchase, staff=staff, reason="退车")
        assert Customer.objects.get(pk=li.pk).last_visit_on is None
