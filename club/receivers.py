"""What the club does when the customer archive tells it something (customers/signals.py), connected in
ClubConfig.ready(): a purchase or visit of an active member earns points, a cancelled or refunded one has its
points reversed — each by a task enqueued when the customers transaction commits."""

from __future__ import annotations

from django.db import transaction

from club.models import Member


def _is_member(customer, *, active: bool) -> bool:
    members = Member.objects.filter(customer=customer)
    if active:
        members = members.filter(status=Member.Status.ACTIVE)
    return members.exists()


def _enqueue(task, *, tenant_id: int, source: str, source_id: int) -> None:
    transaction.on_commit(lambda: task.delay(tenant_id=tenant_id, source=source, source_id=source_id))


def on_recorded(sender, *, instance, customer, **kwargs) -> None:
    from club.tasks import earn_points

    if _is_member(customer, active=True):
        source = "purchase" if sender.__name__ == "Purchase" else "visit"
        _enqueue(earn_points, tenant_id=instance.tenant_id, source=source, source_id=instance.pk)


def on_cancelled(sender, *, instance, customer, **kwargs) -> None:
    from club.tasks import reverse_points

    if _is_member(customer, active=False):  # a cancelled membership's earnings are reversed too
        source = "purchase" if sender.__name__ == "Purchase" else "visit"
        _enqueue(reverse_points, tenant_id=instance.tenant_id, source=source, source_id=instance.pk)


def connect() -> None:
    from customers import signals

    signals.purchase_recorded.connect(on_recorded, dispatch_uid="club.earn_purchase")
    signals.visit_recorded.connect(on_recorded, dispatch_uid="club.earn_visit")
    signals.purchase_cancelled.connect(on_cancelled, dispatch_uid="club.reverse_purchase")
    signals.visit_cancelled.connect(on_cancelled, dispatch_uid="club.reverse_visit")
