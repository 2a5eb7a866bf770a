"""What the club does when the customer archive tells it something (customers/signals.py), connected in
ClubConfig.ready(): a purchase or visit of an active member earns points, a cancelled or refunded one has its
points reversed, a won lead that a member referred pays the referrer — each by a task enqueued when the customers
transaction commits; and a change of a level, benefit or quota gives the programme a new rules version
(club.selectors.rules)."""

from __future__ import annotations

import uuid

from django.db import transaction

from club.models import Level, LevelBenefit, Member, Programme, Referral, ServiceQuota


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


def on_rules_saved(sender, instance, **kwargs) -> None:
    """A level, benefit or quota saved or deleted, or the programme saved (its form writes back the version it
    read): a new rules version for the programme, in the same transaction (pages read the levels again:
    club.selectors.rules)."""
    Programme.objects.filter(tenant_id=instance.tenant_id).update(rules_version=uuid.uuid4())


def connect() -> None:
    from django.db.models.signals import post_delete, post_save

    from customers import signals

    for model in (Programme, Level, LevelBenefit, ServiceQuota):
        post_save.connect(on_rules_saved, sender=model, dispatch_uid=f"club.rules_saved.{model.__name__}")
    for model in (Level, LevelBenefit, ServiceQuota):
        post_delete.connect(on_rules_saved, sender=model, dispatch_uid=f"club.rules_deleted.{model.__name__}")

    signals.purchase_recorded.connect(on_recorded, dispatch_uid="club.earn_purchase")
    signals.visit_recorded.connect(on_recorded, dispatch_uid="club.earn_visit")
    signals.purchase_cancelled.connect(on_cancelled, dispatch_uid="club.reverse_purchase")
    signals.visit_cancelled.connect(on_cancelled, dispatch_uid="club.reverse_visit")
    signals.lead_won.connect(on_lead_won, dispatch_uid="club.referral_points")
