"""Rollup tables of the survey results (满意度调查结果), and the manufacturer's survey results imported to be read
side by side with ours.

Every figure counts on the day of the occasion (the purchase or the service visit the customer was asked
about), so a month's response rate and scores are those of that month's customers, whenever they answered.
Rows are keyed by survey, staff member (the occasion's consultant or advisor) and department, so role
visibility applies to them as to the invitations, and by source: our own survey or the manufacturer's."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.tenancy import TenantModel
from customers.models.files import import_path


class Source(models.TextChoices):
    OURS = "ours", _("Our survey")
    MANUFACTURER = "oem", _("Manufacturer's survey")


class SurveyRollupRow(TenantModel):
    survey = models.ForeignKey("service.Survey", on_delete=models.CASCADE, related_name="+", db_index=False,
                               verbose_name=_("survey"))
    staff = models.ForeignKey("accounts.Staff", on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                              db_index=False, verbose_name=_("consultant or advisor"))
    department = models.ForeignKey("accounts.Department", on_delete=models.CASCADE, null=True, blank=True,
                                   related_name="+", db_index=False, verbose_name=_("department"))

    class Meta:
        abstract = True


class SurveyFigures(SurveyRollupRow):
    """Invitations and scored responses over a period (domain.md: CSI, CSAT, NPS).

    invited: our invitations that reached the customer (sent, answered or expired); answered: responses.
    CSI is summed over the responses that have one; CSAT counts the 4–5 answers of the 1–5 satisfaction
    question; NPS the 9–10 (promoters) and 0–6 (detractors) answers of the 0–10 recommend question."""

    source = models.CharField(_("source"), max_length=4, choices=Source.choices, default=Source.OURS)
    invited = models.PositiveIntegerField(_("invited"), default=0)
    answered = models.PositiveIntegerField(_("answered"), default=0)
    csi_count = models.PositiveIntegerField(default=0)
    csi_sum = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    satisfaction_count = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)
    recommend_count = models.PositiveIntegerField(default=0)
    promoters = models.PositiveIntegerField(default=0)
    detractors = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class SurveyDay(SurveyFigures):
    day = models.DateField(_("day"))

    class Meta:
        verbose_name = _("survey day")
        verbose_name_plural = _("survey days")
        permissions = [("view_survey_report", _("Can view the survey results")),
                       ("import_manufacturer_results", _("Can import the manufacturer's survey results"))]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day", "survey", "staff", "department", "source"],
                                    nulls_distinct=False, name="surveyday_once"),
        ]

    def __str__(self):
        return f"{self.day} · {self.survey_id} · {self.staff_id}"


class SurveyMonth(SurveyFigures):
    """The sum of a calendar month's SurveyDay rows (`month` is its first day)."""

    month = models.DateField(_("month"))

    class Meta:
        verbose_name = _("survey month")
        verbose_name_plural = _("survey months")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "month", "survey", "staff", "department", "source"],
                                    nulls_distinct=False, name="surveymonth_once"),
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} · {self.survey_id} · {self.staff_id}"


class SurveyAnswerFigures(SurveyRollupRow):
    """How often a question of our surveys was answered with a value (as analytics.AnswerFigures)."""

    question = models.ForeignKey("service.Question", on_delete=models.CASCADE, related_name="+", db_index=False,
                                 verbose_name=_("question"))
    value = models.CharField(_("answer"), max_length=200)
    count = models.PositiveIntegerField(_("count"), default=0)

    class Meta:
        abstract = True


class SurveyAnswerDay(SurveyAnswerFigures):
    day = models.DateField(_("day"))

    class Meta:
        verbose_name = _("survey answer day")
        verbose_name_plural = _("survey answer days")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day", "question", "value", "survey", "staff", "department"],
                                    nulls_distinct=False, name="surveyanswerday_once"),
        ]

    def __str__(self):
        return f"{self.day} · {self.question_id} · {self.value}"


class SurveyAnswerMonth(SurveyAnswerFigures):
    month = models.DateField(_("month"))

    class Meta:
        verbose_name = _("survey answer month")
        verbose_name_plural = _("survey answer months")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "month", "question", "value", "survey", "staff", "department"],
                                    nulls_distinct=False, name="surveyanswermonth_once"),
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} · {self.question_id} · {self.value}"


class ManufacturerImport(TenantModel):
    """A file of the manufacturer's survey results (CSV or XLSX) on its way in: uploaded, its columns mapped to
    ours, then imported at once (all rows or none). Its rows are compared with one of our surveys."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        DONE = "done", _("Imported")

    survey = models.ForeignKey("service.Survey", on_delete=models.CASCADE, related_name="+", db_index=False,
                               verbose_name=_("compared with our survey"))
    file = models.FileField(_("file"), upload_to=import_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    created_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, related_name="+",
                                   db_index=False, verbose_name=_("by"))
    columns = models.JSONField(_("columns"), default=dict)  # {our field: their column header}
    status = models.CharField(_("status"), max_length=5, choices=Status.choices, default=Status.DRAFT)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    first_day = models.DateField(_("first occasion"), null=True, blank=True)
    last_day = models.DateField(_("last occasion"), null=True, blank=True)

    class Meta:
        verbose_name = _("manufacturer results import")
        verbose_name_plural = _("manufacturer results imports")
        indexes = [models.Index(fields=["tenant", "-created_at"], name="manufacturer_import_list")]

    def __str__(self):
        return self.original_name


class ManufacturerResponse(TenantModel):
    """One answered questionnaire of the manufacturer's survey, as their file gave it. `reference` (their
    questionnaire number) makes a second import of the same rows update them instead of counting them twice."""

    batch = models.ForeignKey(ManufacturerImport, on_delete=models.CASCADE, related_name="responses",
                              db_index=False, verbose_name=_("import"))
    survey = models.ForeignKey("service.Survey", on_delete=models.CASCADE, related_name="+", db_index=False,
                               verbose_name=_("survey"))
    reference = models.CharField(_("their reference"), max_length=60, blank=True)
    occasion_on = models.DateField(_("occasion date"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+", db_index=False, verbose_name=_("customer"))
    staff = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                              db_index=False, verbose_name=_("consultant or advisor"))
    department = models.ForeignKey("accounts.Department", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", db_index=False, verbose_name=_("department"))
    csi = models.DecimalField(_("CSI"), max_digits=5, decimal_places=2, null=True, blank=True)
    recommend = models.PositiveSmallIntegerField(_("would recommend (0–10)"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction (1–5)"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True, max_length=2000)

    class Meta:
        verbose_name = _("manufacturer survey response")
        verbose_name_plural = _("manufacturer survey responses")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "survey", "reference"], condition=~Q(reference=""),
                                    name="manufacturer_response_once"),
        ]
        indexes = [
            models.Index(fields=["tenant", "occasion_on"], name="manufacturer_response_day"),
            models.Index(fields=["tenant", "batch"], name="manufacturer_response_batch"),
        ]

    def __str__(self):
        return f"{self.survey_id} · {self.reference or self.pk}"
