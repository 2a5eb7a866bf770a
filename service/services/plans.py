"""Writes for follow-up plans: pause or resume one, save one edited in the app, start a win-back campaign."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Staff
from accounts.visibility import visibility_for
from crm.forms import parse_id
from customers.selectors.saved_filters import managed_departments
from service.models import FollowUpPlan
from service.models.followups import ContactType, Priority


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


WINBACK_EXPIRES_DAYS = 14
NAME_LENGTH = FollowUpPlan._meta.get_field("name").max_length


def unique_plan_name(base: str) -> str:
    """`base`, or `base (2)`, `base (3)` … when the tenant has a plan of that name (the base cut to fit)."""
    base = base[:NAME_LENGTH]
    taken = set(FollowUpPlan.objects.filter(name__startswith=base[:NAME_LENGTH - 8]).values_list("name", flat=True))
    name, n = base, 1
    while name in taken:
        n += 1
        suffix = f" ({n})"
        name = base[:NAME_LENGTH - len(suffix)] + suffix
    return name


def winback_filter(user) -> str | None:
    """The customer list's filter of the customers on thin ice this user sees (customers_visible_to): all of them
    for a director, those of the departments a manager leads (and below) for a manager; None for anyone else."""
    if visibility_for(user).everything:
        return urlencode([("lifecycle", "thin_ice")])
    managed = managed_departments(user)
    if not managed:
        return None
    return urlencode([("lifecycle", "thin_ice"), *(("team", str(pk)) for pk in managed)])


@transaction.atomic
def winback_campaign_create(*, tenant, user) -> FollowUpPlan:
    """A follow-up campaign (trigger `campaign`, contact type win-back, due today, to each customer's owner or
    their team's queue) over the customers on thin ice the user sees: the list the retention page links to. The
    generation reads its filter (customers.selectors.customers.filtered_customer_ids) when it runs today."""
    query = winback_filter(user)
    if query is None:
        raise ValidationError(_("Only a director or a manager starts a win-back campaign."))
    today = tenant.today()
    name = unique_plan_name(_("Win-back %(day)s") % {"day": today.isoformat()})
    plan = FollowUpPlan(name=name, trigger=FollowUpPlan.Trigger.CAMPAIGN, contact_type=ContactType.WINBACK,
                        customer_filter=query, campaign_on=today, assignment=FollowUpPlan.Assignment.OWNER,
                        expires_days_after=WINBACK_EXPIRES_DAYS, priority=Priority.HIGH,
                        script=_("We have not seen you for a while: how is your car, and may we book its next "
                                 "service?"))
    return plan_save(plan=plan, tenant=tenant)
