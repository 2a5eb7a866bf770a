"""A purchase and a service visit of 李强 (owned by the manager), recorded through the services, for the cancel
pages in the URL × persona matrix. Dated long ago so that no follow-up, survey or lapsing window finds them; his
lifecycle stage is put back (recording a purchase makes a prospect a customer) so that the seeded world's stages
stay as other tests know them. Seeded before the club members: no earning is enqueued."""

from datetime import date
from decimal import Decimal

from customers.models import Customer, Purchase
from customers.services import customers as services


def seed(tenant):
    li = Customer.objects.get(name="李强")
    if Purchase.objects.filter(customer=li).exists():
        return
    stage = li.stage
    vehicle = li.vehicles.first()
    services.purchase_record(customer=li, contract_on=date(2019, 3, 1), amount=Decimal("128000"), vehicle=vehicle)
    services.visit_record(customer=li, opened_on=date(2019, 9, 1), visit_type="first", amount=Decimal("600"),
                          vehicle=vehicle, mileage_km=5000)
    li = Customer.objects.get(pk=li.pk)
    if li.stage != stage:
        services.customer_update(customer=li, data={"stage": stage})
