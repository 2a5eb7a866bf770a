"""Member services (会员服务): annual-inspection agency (代办年检), replacement car (替换车), pick-up and drop-off
(接送服务), each used within a quota per level per year."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from club.models.members import Member
from club.models.programme import Level
from crm.tenancy import TenantModel


class ServiceKind(models.TextChoices):
    INSPECTION = "inspection", _("Annual-inspection agency")
    REPLACEMENT_CAR = "car", _("Replacement car")
    PICKUP = "pickup", _("Pick-up and drop-off")


class ServiceQuota(TenantModel):
    level = models.ForeignKey(Level, on_delete=models.CASCADE, related_name="quotas", verbose_name=_("level"))
    kind = models.CharField(_("service"), max_length=10, choices=ServiceKind.choices)
    per_year = models.PositiveSmallIntegerField(_("times a year"))

    class Meta:
        verbose_name = _("service quota")
        verbose_name_plural = _("service quotas")
        constraints = [models.UniqueConstraint(fields=["tenant", "level", "kind"], name="club_quota_once")]


class ServiceRequest(TenantModel):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        SCHEDULED = "scheduled", _("Scheduled")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="service_requests",
                               verbose_name=_("member"))
    kind = models.CharField(_("service"), max_length=10, choices=ServiceKind.choices)
    wanted_on = models.DateField(_("date"))
    quota_year = models.PositiveSmallIntegerField(_("quota year"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED)
    scheduled_for = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    delivered_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("delivered by"))
    requested_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("recorded by"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        verbose_name = _("member service")
        verbose_name_plural = _("member services")
        constraints = [models.CheckConstraint(condition=~Q(status="done") | Q(done_at__isnull=False),
                                              name="club_service_done_at")]
        indexes = [models.Index(fields=["tenant", "member", "kind", "quota_year"], name="club_service_quota"),
                   models.Index(fields=["tenant", "status", "wanted_on"], name="club_service_status")]
