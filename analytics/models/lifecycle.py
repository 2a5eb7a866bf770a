"""Rollup tables of churn and retention (客户流失率/保有率): the customers in each lifecycle state at the end of each
month, the moves between states from one month's end to the next, and the delivery cohorts — per tenant and the
customer's owner (staff) and team (department), so role visibility applies as on the customer list. Filled
set-based by analytics.services.lifecycle_rollups from the purchases and service visits (customers.lifecycle has
the rules). The running month is as of the day of the last refresh."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.tenancy import TenantModel


class LifecycleState(models.TextChoices):
    NONE = "none", _("Not a customer yet")
    NEW = "new", _("New")
    REGULAR = "regular", _("Regular")
    WON_BACK = "won_back", _("Won back")
    THIN_ICE = "thin_ice", _("On thin ice")
    LAPSED = "lapsed", _("Lapsed")


class LifecycleRow(TenantModel):
    staff = models.ForeignKey("accounts.Staff", on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                              db_index=False, verbose_name=_("owner"))
    department = models.ForeignKey("accounts.Department", on_delete=models.CASCADE, null=True, blank=True,
                                   related_name="+", db_index=False, verbose_name=_("team"))
    count = models.PositiveIntegerField(_("customers"), default=0)

    class Meta:
        abstract = True


class LifecycleMonth(LifecycleRow):
    """Customers in `state` at the end of `month` (its first day; the running month: on the refresh day).
    `since`: for lapsed customers, the month they lapsed in (the churn of a period reads it)."""

    month = models.DateField(_("month"))
    state = models.CharField(_("state"), max_length=10, choices=LifecycleState.choices)
    since = models.DateField(_("lapsed in"), null=True, blank=True)

    class Meta:
        verbose_name = _("lifecycle month")
        verbose_name_plural = _("lifecycle months")
        permissions = [("view_retention_report", _("Can view the churn and retention report"))]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "month", "state", "since", "staff", "department"],
                                    nulls_distinct=False, name="lifecyclemonth_once"),
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} · {self.state} · {self.count}"


class LifecycleFlow(LifecycleRow):
    """Customers in `from_state` at the end of the month before `month` and in `to_state` at its end (`none`:
    their first visit or purchase came in `month` — acquisition)."""

    month = models.DateField(_("month"))
    from_state = models.CharField(_("from"), max_length=10, choices=LifecycleState.choices)
    to_state = models.CharField(_("to"), max_length=10, choices=LifecycleState.choices)

    class Meta:
        verbose_name = _("lifecycle flow")
        verbose_name_plural = _("lifecycle flows")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "month", "from_state", "to_state", "staff", "department"],
                                    nulls_distinct=False, name="lifecycleflow_once"),
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} · {self.from_state} → {self.to_state} · {self.count}"


class LifecycleCohort(LifecycleRow):
    """Buyers by the month of their first purchase (delivery, `cohort`) and `age`: the months from that month to
    the month of their last visit or purchase (they came back in month `age` after delivery, and not later);
    `serviced`: those of them with a service visit within the service-retention window after delivery."""

    cohort = models.DateField(_("delivered in"))
    age = models.PositiveSmallIntegerField(_("last active (months after delivery)"))
    serviced = models.PositiveIntegerField(_("came back for service within the window"), default=0)

    class Meta:
        verbose_name = _("delivery cohort")
        verbose_name_plural = _("delivery cohorts")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "cohort", "age", "staff", "department"], nulls_distinct=False,
                                    name="lifecyclecohort_once"),
        ]

    def __str__(self):
        return f"{self.cohort:%Y-%m} · +{self.age} · {self.count}"
