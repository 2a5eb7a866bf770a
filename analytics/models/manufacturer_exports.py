"""The manufacturer export (主机厂 DCRM 数据上报): a saved column mapping of one dataset (the customer archive, the
follow-ups, the survey responses or the complaints) written as the automaker's dealer CRM expects it, on a
schedule, e-mailed to the addresses given; and the log of every file sent.

A scheduled run is once per export and period: the run row is claimed first (its unique constraint on tenant,
export and period start holds for scheduled runs), so a beat tick delivered twice, or two workers at once, send
one file. A manual run ("Run now") is logged too, marked manual, and may be repeated."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.tenancy import TenantModel
from customers.models.files import export_path


class ManufacturerExport(TenantModel):
    class Dataset(models.TextChoices):
        CUSTOMERS = "customers", _("Customers with their vehicles")
        FOLLOWUPS = "followups", _("Follow-ups with their latest call")
        SURVEYS = "surveys", _("Survey responses")
        COMPLAINTS = "complaints", _("Complaints")

    class Format(models.TextChoices):
        CSV = "csv", _("CSV (UTF-8, opens in Excel)")
        XLSX = "xlsx", _("Excel workbook (XLSX)")

    class Frequency(models.TextChoices):
        DAILY = "daily", _("Daily: the day before")
        WEEKLY = "weekly", _("Weekly on Monday: the week before, Monday to Sunday")
        MONTHLY = "monthly", _("Monthly on the 1st: the month before")

    class Language(models.TextChoices):
        CHINESE = "zh-hans", "简体中文"
        ENGLISH = "en", "English"

    name = models.CharField(_("name"), max_length=100)
    dataset = models.CharField(_("data"), max_length=12, choices=Dataset.choices)
    # [{"key": a field of the dataset's registry, "header": the manufacturer's column header}], in file order
    columns = models.JSONField(_("columns"), default=list)
    format = models.CharField(_("format"), max_length=4, choices=Format.choices, default=Format.XLSX)
    frequency = models.CharField(_("frequency"), max_length=8, choices=Frequency.choices, default=Frequency.DAILY)
    language = models.CharField(_("language of the values"), max_length=8, choices=Language.choices,
                                default=Language.CHINESE)
    recipients = models.JSONField(_("recipients"), default=list)  # e-mail addresses
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", db_index=False, verbose_name=_("created by"))

    class Meta:
        verbose_name = _("manufacturer export")
        verbose_name_plural = _("manufacturer exports")
        ordering = ["name"]
        permissions = [("manage_manufacturer_exports",
                        _("Can configure and download the manufacturer exports (full personal data)"))]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="manufacturer_export_name"),
        ]

    def __str__(self):
        return self.name


class ManufacturerExportRun(TenantModel):
    class Status(models.TextChoices):
        RUNNING = "running", _("Writing")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    export = models.ForeignKey(ManufacturerExport, on_delete=models.CASCADE, related_name="runs", db_index=False,
                               verbose_name=_("export"))
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))  # the last day covered
    manual = models.BooleanField(_("run by hand"), default=False)
    started_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", db_index=False, verbose_name=_("run by"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.RUNNING)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    file = models.FileField(_("file"), upload_to=export_path, max_length=200, blank=True)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    recipients = models.JSONField(_("recipients"), default=list)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("manufacturer export run")
        verbose_name_plural = _("manufacturer export runs")
        constraints = [
            # a scheduled run once per export and period, whatever delivers the tick how often
            models.UniqueConstraint(fields=["tenant", "export", "period_start"], condition=Q(manual=False),
                                    name="manufacturer_export_run_once"),
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="manufacturer_run_newest"),
            models.Index(fields=["tenant", "export", "-created_at"], name="manufacturer_run_export"),
        ]

    def __str__(self):
        return f"{self.export_id} {self.period_start}–{self.period_end}"
