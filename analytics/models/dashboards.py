"""Rollup table of the role dashboards (`/`): counts of complaints, leads, club members and the states of work
at a moment, per tenant, day (the company's time zone), staff member and department, filled set-based by
analytics.services.dashboard_rollups. The follow-up and survey tiles read the follow-up and survey rollups
(analytics.models.followups, analytics.models.surveys); the metric registry (analytics.metrics) names which
measure of which table each tile counts.

Two kinds of measure (analytics.metrics.MEASURES): an event counted on the day it happened (a complaint opened
on its opening day), summed over a period, with month rows for the months a period covers whole; and a
snapshot, the state at the last refresh of a day (follow-ups overdue, points outstanding), read on one day."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.tenancy import TenantModel

# the measure of one row (value 1) per day the snapshots were taken: on such a day a measure without a row was 0
TAKEN = "snapshot_taken"


class MeasureRow(TenantModel):
    measure = models.CharField(_("measure"), max_length=40)
    staff = models.ForeignKey("accounts.Staff", on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                              db_index=False, verbose_name=_("staff member"))
    department = models.ForeignKey("accounts.Department", on_delete=models.CASCADE, null=True, blank=True,
                                   related_name="+", db_index=False, verbose_name=_("department"))
    value = models.DecimalField(_("value"), max_digits=20, decimal_places=2, default=0)

    class Meta:
        abstract = True


class MeasureDay(MeasureRow):
    day = models.DateField(_("day"))

    class Meta:
        verbose_name = _("dashboard day")
        verbose_name_plural = _("dashboard days")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "measure", "day", "staff", "department"], nulls_distinct=False,
                                    name="measureday_once"),
        ]

    def __str__(self):
        return f"{self.day} · {self.measure} · {self.value}"


class MeasureMonth(MeasureRow):
    """The sum of a calendar month's MeasureDay rows of event measures (`month` is its first day)."""

    month = models.DateField(_("month"))

    class Meta:
        verbose_name = _("dashboard month")
        verbose_name_plural = _("dashboard months")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "measure", "month", "staff", "department"],
                                    nulls_distinct=False, name="measuremonth_once"),
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} · {self.measure} · {self.value}"
