"""Session test data for the leads work: rows the URL and admin matrices open (called per tenant by
tests/conftest.py, inside the tenant scope).

One open online lead per tenant, taken by <tenant>.specialist: the director (the first persona holding
customers.view_lead) sees it, so do the manager of 客服组 and the specialist; the analyst reads it masked."""

from accounts.models import Staff
from customers.services.leads import Assign, lead_register

LEAD = {"name": "陈静", "mobile": "13700001111", "channel": "online", "platform": "汽车之家",
        "external_id": "QC-0001", "model_interest": "大众朗逸", "note": "想了解置换优惠"}


def seed(tenant):
    specialist = Staff.objects.select_related("user").get(user__username=f"{tenant.slug}.specialist")
    lead_register(tenant=tenant, staff=specialist, data=dict(LEAD), assign=Assign.SELF)
