"""Writes for follow-up plans: pause or resume one, save one edited in the app."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Staff
from crm.forms import parse_id
from service.models import FollowUpPlan


@transaction.atomic
def plan_set_active(*, plan_id, active: bool, staff: Staff) -> FollowUpPlan:
    """Pause or resume a plan (the scope keeps it to the user's tenant)."""
    plan = FollowUpPlan.objects.select_for_update().filter(pk=parse_id(plan_id)).first()
    if plan is None:
        raise ValidationError(_("This plan does not exist (any more)."))
    plan.is_active = active
    plan.save(update_fields=["is_active", "updated_at"])
    return plan


@transaction.atomic
def plan_save(*, plan: FollowUpPlan, tenant) -> FollowUpPlan:
    """Create or change a plan from the app; its rules are the model's (full_clean), the tenant the user's."""
    plan.tenant = tenant
    plan.full_clean()
    plan.save()
    return plan
