"""A saved segment per tenant (the URL matrix opens its pages)."""

from customers.models import Segment


def seed(tenant):
    Segment.objects.create(tenant=tenant, name="VIP客户", description="重点客户", query="tier=vip")
