"""Targets of the performance reviews (绩效考核): a figure a position's holders or one person should reach in a
month or a week (HubSpot/Pipedrive goals). The scorecards (analytics.selectors.targets) read each person's
actual from the rollups and pace it against the target over the period's working days.

A target names exactly one of a position (every holder) or a staff member; a person's own target overrides their
position's. A target without a period start recurs: every month (or week) of its kind, unless a target for that
very period is set."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from analytics.metrics import TARGET_METRICS
from crm.tenancy import TenantModel


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    WEEK = "week", _("Week")


class Target(TenantModel):
    metric = models.CharField(_("metric"), max_length=40,
                              choices=[(key, m.label) for key, m in TARGET_METRICS.items()])
    position = models.ForeignKey("accounts.Position", on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="+", db_index=False, verbose_name=_("position"))
    staff = models.ForeignKey("accounts.Staff", on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                              db_index=False, verbose_name=_("person"))
    period_kind = models.CharField(_("period"), max_length=5, choices=PeriodKind.choices, default=PeriodKind.MONTH)
    period_start = models.DateField(_("period start"), null=True, blank=True,
                                    help_text=_("Empty: every month (or week)."))
    value = models.DecimalField(_("target"), max_digits=12, decimal_places=2)
    created_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", db_index=False, verbose_name=_("set by"))

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        permissions = [("view_scorecard", _("Can view scorecards"))]
        constraints = [
            models.CheckConstraint(condition=Q(position__isnull=False, staff__isnull=True)
                                   | Q(position__isnull=True, staff__isnull=False), name="target_one_scope"),
            models.CheckConstraint(condition=Q(value__gte=0), name="target_not_negative"),
            models.UniqueConstraint(fields=["tenant", "metric", "period_kind", "period_start", "position", "staff"],
                                    nulls_distinct=False, name="target_once",
                                    violation_error_message=_("This target is set already: edit it instead.")),
        ]
        indexes = [
            models.Index(fields=["tenant", "period_kind", "period_start"], name="target_period"),
        ]

    def __str__(self):
        return f"{self.get_metric_display()} · {self.value}"

    @property
    def unit(self) -> str:
        return TARGET_METRICS[self.metric].unit
