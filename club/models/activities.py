"""Club activities (俱乐部活动): planned for an audience, invited, registered (a waiting list past capacity),
checked in on the day by card number or mobile, attendance points."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from club.models.members import Member
from club.models.programme import Level
from crm.tenancy import TenantModel


class Activity(TenantModel):
    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        DONE = "done", _("Held")
        CANCELLED = "cancelled", _("Cancelled")

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=5000, blank=True)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    place = models.CharField(_("place"), max_length=200)
    capacity = models.PositiveIntegerField(_("capacity"))
    audience_tag = models.ForeignKey("customers.Tag", on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("customers tagged"))
    audience_segment = models.ForeignKey(
        "customers.Segment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False,
        verbose_name=_("customers of the segment"),
        help_text=_("Only members whose customer is in this segment (with levels or a tag: all of them)."))
    attendance_points = models.PositiveIntegerField(_("points for attending"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    organiser = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+", verbose_name=_("organiser"))

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        constraints = [models.CheckConstraint(condition=Q(ends_at__gte=models.F("starts_at")),
                                              name="club_activity_ends_after_start"),
                       models.CheckConstraint(condition=Q(capacity__gt=0), name="club_activity_capacity")]
        indexes = [models.Index(fields=["tenant", "-starts_at"], name="club_activity_starts")]

    def __str__(self):
        return self.title


class ActivityLevel(TenantModel):
    """A level the activity is for (none listed: every level)."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="audience_levels",
                                 verbose_name=_("activity"))
    level = models.ForeignKey(Level, on_delete=models.CASCADE, related_name="+", verbose_name=_("level"))

    class Meta:
        verbose_name = _("audience level")
        verbose_name_plural = _("audience levels")
        constraints = [models.UniqueConstraint(fields=["tenant", "activity", "level"], name="club_activity_level")]


class Registration(TenantModel):
    class Status(models.TextChoices):
        INVITED = "invited", _("Invited")
        REGISTERED = "registered", _("Registered")
        WAITLISTED = "waitlisted", _("On the waiting list")
        CANCELLED = "cancelled", _("Cancelled")
        ATTENDED = "attended", _("Checked in")

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="registrations",
                                 verbose_name=_("activity"))
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="registrations",
                               verbose_name=_("member"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.INVITED)
    invited_at = models.DateTimeField(_("invited"), null=True, blank=True)
    invite_channel = models.CharField(_("invited by"), max_length=10, blank=True)  # call / sms / email
    registered_at = models.DateTimeField(_("registered"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    checked_in_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="+", verbose_name=_("checked in by"))

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "activity", "member"], name="club_registration_once"),
        ]
        indexes = [models.Index(fields=["tenant", "activity", "status", "registered_at"],
                                name="club_registration_status"),
                   models.Index(fields=["tenant", "member"], name="club_registration_member"),
                   # invited by SMS or e-mail, the message not sent yet: what crm.requeue's sweep looks for (the
                   # sending claims them within seconds, so the index holds next to nothing)
                   models.Index(fields=["tenant", "created_at"], name="club_registration_unsent",
                                condition=Q(invited_at__isnull=True, status="invited",
                                            invite_channel__in=["sms", "email"]))]
