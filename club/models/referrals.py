"""Member referrals (会员推荐): a member refers a prospect, who becomes a lead tagged with the referrer; the
referrer earns the referral points once, when the lead is won (再营销成果)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from club.models.members import Member
from club.models.points import PointEntry
from crm.tenancy import TenantModel


class Referral(TenantModel):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="referrals",
                               verbose_name=_("referred by"))
    lead = models.OneToOneField("customers.Lead", on_delete=models.CASCADE, related_name="club_referral",
                                verbose_name=_("lead"))
    created_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("recorded by"))
    entry = models.OneToOneField(PointEntry, on_delete=models.RESTRICT, null=True, blank=True, related_name="+",
                                 verbose_name=_("referral points"))

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        indexes = [models.Index(fields=["tenant", "member"], name="club_referral_member"),
                   models.Index(fields=["tenant", "created_at"], name="club_referral_created")]
