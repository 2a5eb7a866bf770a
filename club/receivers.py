"""What the club does when the customer archive tells it something (customers/signals.py), connected in
ClubConfig.ready(): a purchase or visit of an active member earns points, a cancelled or refunded one has its
points reversed, a won lead that a member referred pays the referrer — each by a task enqueued when the customers
transaction commits."""

from __future__ import annotations

from django.db import transaction

from club.models import Member, Referral


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
    if sender.__name__ == "Purchase":  # the sale a member referred: the referrer's points go back too
        for lead_id in Referral.objects.filter(lead__purchase=instance).values_list("lead_id", flat=True):
            _enqueue(reverse_points, tenant_id=instance.tenant_id, source="referral", source_id=lead_id)


def on_lead_won(sender, instance, **kwargs) -> None:
    """A won lead that a member referred earns the referrer their referral points (club.award_referral)."""
    from club.tasks import award_referral

    if Referral.objects.filter(lead_id=instance.pk).exists():
        tenant_id, lead_id = instance.tenant_id, instance.pk
        transaction.on_commit(lambda: award_referral.delay(tenant_id=tenant_id, lead_id=lead_id))


def connect() -> None:
    from customers import signals

    signals.purchase_recorded.connect(on_recorded, dispatch_uid="club.earn_purchase")
    signals.visit_recorded.connect(on_recorded, dispatch_uid="club.earn_visit")
    signals.purchase_cancelled.connect(on_cancelled, dispatch_uid="club.reverse_purchase")
    signals.visit_cancelled.connect(on_cancelled, dispatch_uid="club.reverse_visit")
    signals.lead_won.connect(on_lead_won, dispatch_uid="club.referral_points")
