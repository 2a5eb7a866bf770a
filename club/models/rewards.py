"""Points for gifts (积分换礼): the reward catalogue and redemptions, which reserve stock and points together."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from club.models.members import Member
from club.models.points import PointEntry
from crm.tenancy import TenantModel


class Reward(TenantModel):
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    points_price = models.PositiveIntegerField(_("points"))
    stock = models.PositiveIntegerField(_("in stock"), null=True, blank=True, help_text=_("Empty: unlimited."))
    per_member_limit = models.PositiveIntegerField(_("at most per member"), null=True, blank=True)
    available_from = models.DateField(_("from"), null=True, blank=True)
    available_until = models.DateField(_("until"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="club_reward_unique_name"),
            models.CheckConstraint(condition=Q(points_price__gt=0), name="club_reward_price_positive"),
            models.CheckConstraint(condition=Q(available_from__isnull=True) | Q(available_until__isnull=True)
                                   | Q(available_until__gte=models.F("available_from")), name="club_reward_dates"),
        ]

    def __str__(self):
        return self.name


class Redemption(TenantModel):
    class Status(models.TextChoices):
        RESERVED = "reserved", _("Reserved")
        FULFILLED = "fulfilled", _("Handed over")
        CANCELLED = "cancelled", _("Cancelled")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="redemptions",
                               verbose_name=_("member"))
    reward = models.ForeignKey(Reward, on_delete=models.RESTRICT, related_name="redemptions",
                               verbose_name=_("reward"))
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    points = models.PositiveBigIntegerField(_("points"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RESERVED)
    entry = models.OneToOneField(PointEntry, on_delete=models.RESTRICT, related_name="redemption",
                                 verbose_name=_("points entry"))
    created_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("by"))
    fulfilled_at = models.DateTimeField(_("handed over"), null=True, blank=True)
    fulfilled_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("handed over by"))
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="club_redemption_quantity")]
        indexes = [models.Index(fields=["tenant", "member", "reward"], name="club_redemption_member"),
                   models.Index(fields=["tenant", "status", "created_at"], name="club_redemption_status")]
