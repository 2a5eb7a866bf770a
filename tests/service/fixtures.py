"""Session test data for follow-ups: rows the URL and admin matrices open (called per tenant by
tests/conftest.py, inside the tenant scope). The plans come from seed_demo."""

from customers.models import Customer
from service.models import ContactOptOut, ContactType


def seed(tenant):
    ContactOptOut.objects.create(tenant=tenant, customer=Customer.objects.get(name="北京宏达物流有限公司"),
                                 contact_type=ContactType.WINBACK, reason="公司客户，不做召回")
