"""CRM usage (系统使用情况), what the customer information supervisor (客户信息主管) watches: per staff member
and day (the company's time zone), logins, records created and changed, calls and distinct customers reached,
and how long follow-ups waited from their due day to a first attempt. Filled set-based by
analytics.services.usage from the raw rows (sources and rules in its docstring); the page
(/reports/usage/) reads only these rows.

StaffLogin is the raw row of a successful login (accounts' login form, or any `django.contrib.auth.login`):
who and when — no address, no password, nothing secret."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.tenancy import TenantModel


class StaffLogin(TenantModel):
    """One successful login of a staff member (its moment is `created_at`)."""

    staff = models.ForeignKey("accounts.Staff", on_delete=models.CASCADE, related_name="+", db_index=False,
                              verbose_name=_("staff member"))

    class Meta:
        verbose_name = _("login")
        verbose_name_plural = _("logins")
        indexes = [models.Index(fields=["tenant", "created_at"], name="stafflogin_day")]

    def __str__(self):
        return f"{self.staff_id} · {self.created_at}"


class UsageDay(TenantModel):
    """One staff member's use of the CRM on one day.

    customers_reached counts each customer once per day however many calls reached them (DealerMine's rule: a
    repeated attempt does not inflate the activity); calls counts every attempt. first_attempt_hours is the
    histogram {whole hours: follow-ups} of the wait from a follow-up's due day (its first moment on the
    company's clock) to its first call, counted on the day and for the caller of that first call: a median
    over any period is read from the summed histograms."""

    day = models.DateField(_("day"))
    staff = models.ForeignKey("accounts.Staff", on_delete=models.CASCADE, related_name="+", db_index=False,
                              verbose_name=_("staff member"))
    logins = models.PositiveIntegerField(_("logins"), default=0)
    created = models.PositiveIntegerField(_("records created"), default=0)
    changed = models.PositiveIntegerField(_("records changed"), default=0)
    calls = models.PositiveIntegerField(_("calls"), default=0)
    customers_reached = models.PositiveIntegerField(_("customers reached"), default=0)
    first_attempts = models.PositiveIntegerField(_("follow-ups first attempted"), default=0)
    first_attempt_hours = models.JSONField(_("hours to the first attempt"), default=dict, blank=True)

    class Meta:
        verbose_name = _("usage day")
        verbose_name_plural = _("usage days")
        permissions = [("view_usage_report", _("Can view the CRM usage report"))]
        constraints = [models.UniqueConstraint(fields=["tenant", "day", "staff"], name="usageday_once")]

    def __str__(self):
        return f"{self.day} · {self.staff_id}"
