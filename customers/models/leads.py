"""Sales leads (集客登记), their events and the round-robin assignment."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.tenancy import TenantModel
from customers.models.customers import Customer


class Lead(TenantModel):
    """A sales lead (集客登记) from a walk-in, a call, an online platform or a referral, tracked to a
    won sale or a loss."""

    class Channel(models.TextChoices):
        WALK_IN = "walk_in", _("Walk-in")
        PHONE = "phone", _("Phone")
        ONLINE = "online", _("Online platform")
        REFERRAL = "referral", _("Referral")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        CONTACTED = "contacted", _("Contacted")
        APPOINTMENT = "appointment", _("Appointment")
        VISITED = "visited", _("Visited")
        WON = "won", _("Won")
        LOST = "lost", pgettext_lazy("lead status", "Lost")

    name = models.CharField(_("name"), max_length=100)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    platform = models.CharField(_("platform"), max_length=50, blank=True,
                                help_text=_("For online leads: where it came from, e.g. 汽车之家."))
    external_id = models.CharField(_("platform lead ID"), max_length=64, blank=True)
    model_interest = models.CharField(_("model of interest"), max_length=60, blank=True)
    referrer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="referrals",
                                 verbose_name=_("referred by"))
    note = models.TextField(_("note"), max_length=2000, blank=True)
    consultant = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="leads", verbose_name=_("sales consultant"))
    department = models.ForeignKey("accounts.Department", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="leads", verbose_name=_("team"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.NEW)
    lost_reason = models.CharField(_("reason lost"), max_length=200, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now)
    # when it was closed as won or lost (None while open): the period a conversion rate counts it in
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="leads",
                                 verbose_name=_("customer"))
    purchase = models.ForeignKey("Purchase", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                 verbose_name=_("purchase"))

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        permissions = [("assign_lead", _("Can assign leads"))]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "platform", "external_id"], condition=~Q(external_id=""),
                                    name="lead_unique_platform_id"),
            models.CheckConstraint(condition=~Q(status="lost") | ~Q(lost_reason=""), name="lead_lost_has_reason"),
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "last_activity_at", "id"], name="lead_tenant_status"),
            models.Index(fields=["tenant", "consultant", "status", "last_activity_at"], name="lead_tenant_consultant"),
            models.Index(fields=["tenant", "created_at", "id"], name="lead_tenant_created"),
            models.Index(fields=["tenant", "mobile"], name="lead_tenant_mobile"),
            models.Index(fields=["tenant", "updated_at", "id"], name="lead_tenant_updated"),  # the API's list
            models.Index(fields=["tenant", "closed_at"], condition=Q(closed_at__isnull=False),
                         name="lead_tenant_closed"),
        ]

    def __str__(self):
        return self.name


# a lead still in the pipeline (neither won nor lost), in pipeline order
OPEN_STATUSES = (Lead.Status.NEW, Lead.Status.CONTACTED, Lead.Status.APPOINTMENT, Lead.Status.VISITED)


class LeadEvent(TenantModel):
    """What happened to a lead: registered, assigned, moved to a status, with who and a note."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events")
    staff = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, related_name="+")
    status = models.CharField(_("status"), max_length=12, choices=Lead.Status.choices, blank=True)
    consultant = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, related_name="+")
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "lead", "created_at"], name="lead_event_tenant_lead")]


class RoundRobin(TenantModel):
    """Where round-robin assignment within a department stands (the last staff member given one)."""

    department = models.ForeignKey("accounts.Department", on_delete=models.CASCADE, related_name="+")
    last_staff = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "department"], name="round_robin_unique")]
