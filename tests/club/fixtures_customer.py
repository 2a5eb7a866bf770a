"""A purchase and a service visit of 李强 (owned by the manager), recorded through the services, for the cancel
pages in the URL × persona matrix. Dated long ago so that no follow-up, survey or lapsing window finds them."""

from datetime import date
from decimal import Decimal

from customers.models import Customer, Purchase
from customers.services import customers as services


def seed(tenant):
    li = Customer.objects.get(name="李强")
    if Purchase.objects.filter(customer=li).exists():
        return
    vehicle = li.vehicles.first()
    services.purchase_record(customer=li, contract_on=date(2019, 3, 1), amount=Decimal("128000"), vehicle=vehicle)
    services.visit_record(customer=li, opened_on=date(2019, 9, 1), visit_type="first", amount=Decimal("600"),
                          vehicle=vehicle, mileage_km=5000)
