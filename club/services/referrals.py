"""Member referrals (会员推荐): a member refers a prospect, who becomes a referral lead (tagged with the referrer)
in the sales team's queue — the team that takes purchase intents (service settings, “Hours and teams”); when the
lead is won, the referrer earns the programme's referral points once (the earning's key is the lead)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Staff
from club.models import Member, PointEntry, Referral
from club.selectors.access import programme_of
from customers.models import Lead
from customers.services import leads as lead_services
from service.rules import service_settings


@transaction.atomic
def referral_create(*, member: Member, staff: Staff, name: str, mobile: str, model_interest: str = "",
                    note: str = "") -> Referral:
    """The prospect a member refers becomes a lead in the sales team's queue, and the referral is recorded — in
    one transaction. A mobile known already (a customer's, an open lead's) is refused: that is no new prospect."""
    member = Member.objects.select_related("customer").get(pk=member.pk)
    if staff is not None and staff.tenant_id != member.tenant_id:
        raise ValidationError(_("Choose an item of the same company."))
    if member.status != Member.Status.ACTIVE:
        raise ValidationError(_("The membership is cancelled."))
    department = service_settings(member.tenant).lead_department
    if department is None:
        raise ValidationError(_("No sales team takes leads yet; ask the administrator to set one in “Hours and "
                                "teams”."))
    try:
        lead = lead_services.lead_register(
            tenant=member.tenant, staff=staff, assign=lead_services.Assign.QUEUE, department=department,
            data={"name": name, "mobile": mobile, "channel": Lead.Channel.REFERRAL, "referrer": member.customer,
                  "model_interest": model_interest,
                  "note": note or _("Referred by club member %(member)s.") % {"member": member.customer.name}})
    except lead_services.KnownMobile as error:
        raise ValidationError({"mobile": _("This mobile number is known already: the prospect is a customer or "
                                           "an open lead.")}) from error
    return Referral.objects.create(tenant=member.tenant, member=member, lead=lead, created_by=staff)


def referral_award(*, lead: Lead) -> PointEntry | None:
    """The referrer's points for a won lead, once (the key "referral:<lead>" makes a second call a no-op, also
    at the same moment). None when the lead is no club referral, not won, or was awarded already."""
    from club.services.points import points_earn

    with transaction.atomic():
        referral = (Referral.objects.select_for_update().select_related("member__customer")
                    .filter(lead_id=lead.pk).first())
        if referral is None or referral.entry_id is not None:
            return None
        lead = Lead.objects.select_related("purchase").get(pk=lead.pk)
        if lead.status != Lead.Status.WON or referral.member.status != Member.Status.ACTIVE:
            return None
        if lead.purchase_id is not None:
            # the sale's row locked: a refund either committed before (no points) or waits for this award to
            # commit, and then its reversal (club.receivers.on_cancelled) takes the points back
            purchase = type(lead.purchase).objects.select_for_update().get(pk=lead.purchase_id)
            if purchase.cancelled_at is not None:
                return None
        points = programme_of(lead.tenant).referral_points
        if not points:
            return None
        entry = points_earn(member=referral.member, points=points, source=PointEntry.Source.REFERRAL,
                            source_id=lead.pk, key=f"referral:{lead.pk}", actor=_("referral"),
                            reason=_("Referred %(name)s, who bought") % {"name": lead.name})
        if entry is not None:
            referral.entry = entry
            referral.save(update_fields=["entry", "updated_at"])
        return entry
