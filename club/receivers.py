"""What the club does when the customer archive tells it something (customers.signals), connected in
ClubConfig.ready(). Receivers run inside the sender's transaction and enqueue their work on commit."""

from __future__ import annotations

from django.db import transaction


def on_lead_won(sender, instance, **kwargs) -> None:
    """A won lead that a member referred earns the referrer their referral points (club.award_referral)."""
    from club.models import Referral

    if not Referral.objects.filter(lead_id=instance.pk).exists():
        return
    from club.tasks import award_referral

    tenant_id, lead_id = instance.tenant_id, instance.pk
    transaction.on_commit(lambda: award_referral.delay(tenant_id=tenant_id, lead_id=lead_id))
