"""Exports of the customer list to CSV or XLSX."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.tenancy import TenantModel
from customers.models.files import export_path
from customers.models.jobs import JobStatus


class ExportJob(TenantModel):
    """A customer list written to CSV (UTF-8 with BOM) or XLSX in the background, masked as its
    requester sees the list."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    format = models.CharField(_("format"), max_length=5, choices=Format.choices)
    params = models.CharField(_("filters"), max_length=2000, blank=True)  # the list's query string
    created_by = models.ForeignKey("accounts.Staff", on_delete=models.CASCADE, related_name="+",
                                   verbose_name=_("by"))
    status = models.CharField(_("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    total_rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    processed_rows = models.PositiveIntegerField(_("processed"), default=0)
    file = models.FileField(_("file"), upload_to=export_path, max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        indexes = [models.Index(fields=["tenant", "created_by", "created_at"], name="export_tenant_staff"),
                   # the jobs crm.requeue's sweep looks at: few at any time, whatever the history
                   models.Index(fields=["tenant", "updated_at"], name="export_waiting",
                                condition=Q(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]))]
