"""Appointments (预约): a customer's booked visit with a service advisor."""

from datetime import datetime, timedelta

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.tenancy import TenantModel
from service.models.followups import FollowUp, FollowUpCall


class TsTzRange(models.Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class Appointment(TenantModel):
    """A customer's booked visit with a service advisor. Booked and arrived appointments hold the advisor's
    time: two of them never overlap (checked by service.services.appointments, guarded by the exclusion constraint)."""

    class Kind(models.TextChoices):
        MAINTENANCE = "maintenance", _("Maintenance")
        REPAIR = "repair", _("Repair")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        ARRIVED = "arrived", _("Arrived")
        NO_SHOW = "no_show", _("No-show")
        CANCELLED = "cancelled", _("Cancelled")

    class Source(models.TextChoices):
        CALL = "call", _("Follow-up call")
        INBOUND = "inbound", _("Inbound call")
        WALK_IN = "walk_in", _("Walk-in")
        MANUAL = "manual", _("Entered by staff")

    HOLDS_TIME = (Status.BOOKED, Status.ARRIVED)
    # A booked appointment is work about its customer (access through work: its advisor and their managers
    # open the customer unmasked) from WORK_AHEAD before its start until WORK_AFTER after it — not for a
    # year ahead, and not for ever when nobody marked it arrived or a no-show.
    WORK_AHEAD = timedelta(days=60)
    WORK_AFTER = timedelta(days=1)

    @classmethod
    def open_work(cls, now: datetime | None = None) -> Q:
        """The appointments that are work about their customer at `now`."""
        now = now or timezone.now()
        return Q(status=cls.Status.BOOKED, starts_at__gte=now - cls.WORK_AFTER, starts_at__lte=now + cls.WORK_AHEAD)

    def is_open_work(self, now: datetime | None = None) -> bool:
        """This appointment is work about its customer at `now` (the rule of `open_work`, on the row)."""
        now = now or timezone.now()
        return (self.status == self.Status.BOOKED
                and now - self.WORK_AFTER <= self.starts_at <= now + self.WORK_AHEAD)

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="appointments",
                                 db_index=False, verbose_name=_("customer"))
    vehicle = models.ForeignKey("customers.Vehicle", on_delete=models.CASCADE, null=True, blank=True,
                                related_name="appointments", db_index=False, verbose_name=_("vehicle"))
    advisor = models.ForeignKey("accounts.Staff", on_delete=models.RESTRICT, related_name="+", db_index=False,
                                verbose_name=_("service advisor"))
    starts_at = models.DateTimeField(_("starts"))
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), default=60, validators=[MinValueValidator(15), MaxValueValidator(480)])
    ends_at = models.DateTimeField(_("ends"), editable=False)
    kind = models.CharField(_("visit type"), max_length=12, choices=Kind.choices, default=Kind.MAINTENANCE)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.BOOKED)
    source = models.CharField(_("booked through"), max_length=10, choices=Source.choices, default=Source.MANUAL)
    note = models.TextField(_("note"), blank=True, max_length=2000)
    booked_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+", db_index=False, verbose_name=_("booked by"))
    followup = models.ForeignKey(FollowUp, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                 db_index=False, verbose_name=_("follow-up"))
    followup_call = models.ForeignKey(FollowUpCall, on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="+", db_index=False, verbose_name=_("follow-up call"))
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    status_changed_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                          related_name="+", db_index=False, verbose_name=_("status changed by"))

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["tenant", "advisor", "starts_at"], name="appointment_advisor_day"),
            models.Index(fields=["tenant", "starts_at"], name="appointment_day"),
            models.Index(fields=["tenant", "customer", "starts_at"], name="appointment_customer"),
            models.Index(fields=["tenant", "updated_at", "id"], name="appointment_tenant_updated"),  # the API's list
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="appointment_ends_after_start"),
            ExclusionConstraint(
                name="appointment_no_overlap",
                expressions=[("tenant", RangeOperators.EQUAL), ("advisor", RangeOperators.EQUAL),
                             (TsTzRange("starts_at", "ends_at"), RangeOperators.OVERLAPS)],
                condition=Q(status__in=["booked", "arrived"]),
                violation_error_message=_("The advisor has another appointment at this time.")),
        ]

    def __str__(self):
        return f"{self.customer_id} · {self.starts_at:%Y-%m-%d %H:%M}"
