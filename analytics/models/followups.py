"""Rollup tables of the follow-up report (回访报告), filled set-based by analytics.services.followup_rollups
from the raw follow-ups, calls and answers, so the report reads a few thousand rollup rows instead of a year of raw
ones: days for the edges of a period, months for the calendar months it covers whole.

Rows are keyed by day (or month), plan, staff member and department, so the role's visibility is applied on the rollup
rows exactly as on the follow-ups: a follow-up belongs to its assignee (or its department's queue when
unassigned), a call to its caller (the follow-up's department as its team)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.tenancy import TenantModel


class RollupRow(TenantModel):
    """The keys every rollup row has besides its period: the plan, the staff member (None: a team queue's) and
    the department, on which the report applies role visibility."""

    plan = models.ForeignKey("service.FollowUpPlan", on_delete=models.CASCADE, related_name="+", db_index=False,
                             verbose_name=_("plan"))
    staff = models.ForeignKey("accounts.Staff", on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                              db_index=False, verbose_name=_("staff member"))
    department = models.ForeignKey("accounts.Department", on_delete=models.CASCADE, null=True, blank=True,
                                   related_name="+", db_index=False, verbose_name=_("department"))

    class Meta:
        abstract = True


class FollowUpFigures(RollupRow):
    """Follow-up work of one plan, staff member and department over a period (a day or a month).

    The follow-up figures (due, done, on time) are counted on the day a follow-up is due, by its assignee; the
    call figures (calls, reached, feedback, proposals) on the day of the call (the company's time zone), by the
    caller."""

    due = models.PositiveIntegerField(_("due"), default=0)
    done = models.PositiveIntegerField(_("completed"), default=0)
    on_time = models.PositiveIntegerField(_("completed on time"), default=0)
    calls = models.PositiveIntegerField(_("calls"), default=0)
    reached = models.PositiveIntegerField(_("reached"), default=0)
    need = models.PositiveIntegerField(_("needs"), default=0)
    purchase_intent = models.PositiveIntegerField(_("purchase intents"), default=0)
    complaint = models.PositiveIntegerField(_("complaints"), default=0)
    grievance = models.PositiveIntegerField(_("grievances"), default=0)
    proposals = models.PositiveIntegerField(_("proposals"), default=0)

    class Meta:
        abstract = True


class FollowUpDay(FollowUpFigures):
    """One day × plan × staff member × department of follow-up work."""

    day = models.DateField(_("day"))

    class Meta:
        verbose_name = _("follow-up day")
        verbose_name_plural = _("follow-up days")
        permissions = [("view_followup_report", _("Can view the follow-up report"))]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day", "plan", "staff", "department"], nulls_distinct=False,
                                    name="followupday_once"),
        ]

    def __str__(self):
        return f"{self.day} · {self.plan_id} · {self.staff_id}"


class FollowUpMonth(FollowUpFigures):
    """The sum of a calendar month's FollowUpDay rows (`month` is its first day): a year's report reads twelve
    of these per plan and person instead of 365."""

    month = models.DateField(_("month"))

    class Meta:
        verbose_name = _("follow-up month")
        verbose_name_plural = _("follow-up months")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "month", "plan", "staff", "department"], nulls_distinct=False,
                                    name="followupmonth_once"),
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} · {self.plan_id} · {self.staff_id}"


class AnswerFigures(RollupRow):
    """How often a question was answered with a value over a period, per plan, caller and department: the scale
    number or yes/no (1/0) as text, or one choice (a multiple-choice answer counts once per choice)."""

    question = models.ForeignKey("service.Question", on_delete=models.CASCADE, related_name="+", db_index=False,
                                 verbose_name=_("question"))
    value = models.CharField(_("answer"), max_length=200)
    count = models.PositiveIntegerField(_("count"), default=0)

    class Meta:
        abstract = True


class AnswerDay(AnswerFigures):
    """The answers of one day."""

    day = models.DateField(_("day"))

    class Meta:
        verbose_name = _("answer day")
        verbose_name_plural = _("answer days")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day", "question", "value", "plan", "staff", "department"],
                                    nulls_distinct=False, name="answerday_once"),
        ]

    def __str__(self):
        return f"{self.day} · {self.question_id} · {self.value}"


class AnswerMonth(AnswerFigures):
    """The sum of a calendar month's AnswerDay rows (`month` is its first day)."""

    month = models.DateField(_("month"))

    class Meta:
        verbose_name = _("answer month")
        verbose_name_plural = _("answer months")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "month", "question", "value", "plan", "staff", "department"],
                                    nulls_distinct=False, name="answermonth_once"),
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} · {self.question_id} · {self.value}"


class RollupState(TenantModel):
    """When the tenant's follow-up and survey rollups were last refreshed (shown on the reports)."""

    refreshed_at = models.DateTimeField(_("refreshed"), null=True, blank=True)
    surveys_refreshed_at = models.DateTimeField(_("survey results refreshed"), null=True, blank=True)
    # the dashboards' rollups: refreshed, and the moment from which rows changed since were read (the fill mark)
    dashboard_refreshed_at = models.DateTimeField(_("dashboards refreshed"), null=True, blank=True)
    dashboard_mark = models.DateTimeField(null=True, blank=True, editable=False)
    dashboard_rebuilt_at = models.DateTimeField(null=True, blank=True, editable=False)  # every day recomputed
    # the usage report's rollup (analytics.models.UsageDay): refreshed, and its fill mark
    usage_refreshed_at = models.DateTimeField(_("usage refreshed"), null=True, blank=True)
    usage_mark = models.DateTimeField(null=True, blank=True, editable=False)
    # the retention rollup (analytics.models.lifecycle): refreshed, its fill mark, the day the running month was
    # computed for and the windows it was computed with (other windows: everything again)
    lifecycle_refreshed_at = models.DateTimeField(_("retention refreshed"), null=True, blank=True)
    lifecycle_mark = models.DateTimeField(null=True, blank=True, editable=False)
    lifecycle_as_of = models.DateField(null=True, blank=True, editable=False)
    lifecycle_windows = models.CharField(max_length=40, blank=True, editable=False)

    class Meta:
        verbose_name = _("rollup state")
        verbose_name_plural = _("rollup states")
        constraints = [models.UniqueConstraint(fields=["tenant"], name="rollupstate_one_per_tenant")]

    def __str__(self):
        return str(self.refreshed_at)
