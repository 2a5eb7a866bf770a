"""Scheduled report e-mails: a staff member subscribed (by themselves, their manager or a director) to a report,
weekly (Mondays) or monthly (the 1st), and each e-mail sent (`SentReport`: one per subscription and period, claimed
before the e-mail goes out, so a second run or a second worker sends nothing), with when it was opened."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.tenancy import TenantModel


class Subscription(TenantModel):
    class Report(models.TextChoices):
        DASHBOARD = "dashboard", _("Dashboard")
        FOLLOWUPS = "followups", _("Follow-up report")
        SURVEYS = "surveys", _("Survey results")
        COMPLAINTS = "complaints", _("Complaint report")
        CLUB = "club", _("Club operations report")

    class Frequency(models.TextChoices):
        WEEKLY = "weekly", _("Weekly (Mondays)")
        MONTHLY = "monthly", _("Monthly (the 1st)")

    recipient = models.ForeignKey("accounts.Staff", on_delete=models.CASCADE, related_name="report_subscriptions",
                                  db_index=False, verbose_name=_("recipient"))
    report = models.CharField(_("report"), max_length=20, choices=Report.choices)
    frequency = models.CharField(_("frequency"), max_length=10, choices=Frequency.choices, default=Frequency.WEEKLY)
    created_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", db_index=False, verbose_name=_("subscribed by"))
    active = models.BooleanField(_("active"), default=True)
    last_sent_period = models.DateField(_("last period sent"), null=True, blank=True)
    last_sent_at = models.DateTimeField(_("last sent"), null=True, blank=True)
    last_opened_at = models.DateTimeField(_("last opened"), null=True, blank=True)
    slowed = models.BooleanField(
        _("slowed to monthly"), default=False,
        help_text=_("Set when the weekly e-mails went unopened for a month; setting weekly again clears it."))
    slowed_at = models.DateTimeField(_("slowed on"), null=True, blank=True)

    class Meta:
        verbose_name = _("report subscription")
        verbose_name_plural = _("report subscriptions")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "recipient", "report"], name="subscription_once"),
        ]
        indexes = [models.Index(fields=["tenant", "active", "frequency"], name="subscription_due_idx")]

    def __str__(self):
        return f"{self.get_report_display()} · {self.get_frequency_display()}"


class SentReport(TenantModel):
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="sent", db_index=False,
                                     verbose_name=_("subscription"))
    period_start = models.DateField(_("sending period"), help_text=_("The Monday or the 1st it was sent for."))
    sent_at = models.DateTimeField(_("sent"), auto_now_add=True)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)

    class Meta:
        verbose_name = _("report sent")
        verbose_name_plural = _("reports sent")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "subscription", "period_start"], name="report_sent_once"),
        ]

    def __str__(self):
        return f"{self.subscription} · {self.period_start}"
