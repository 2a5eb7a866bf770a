"""Imports of customers and leads from uploaded files: saved mappings, jobs and the rows their pages show."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.tenancy import TenantModel
from customers.models.files import import_path
from customers.models.jobs import JobStatus


class ImportMapping(TenantModel):
    """A saved column mapping for reuse: {file column header: field name}."""

    class Kind(models.TextChoices):
        CUSTOMERS = "customers", _("Customers")
        LEADS = "leads", _("Leads")

    kind = models.CharField(pgettext_lazy("import", "kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)
    columns = models.JSONField(_("columns"), default=dict)

    class Meta:
        verbose_name = _("import mapping")
        verbose_name_plural = _("import mappings")
        constraints = [models.UniqueConstraint(fields=["tenant", "kind", "name"], name="import_mapping_unique",
                                               violation_error_message=_("A mapping with this name exists."))]

    def __str__(self):
        return self.name


class ImportJob(TenantModel):
    """One uploaded file on its way in: mapping → preview → run (Celery) → report of rejected rows."""

    class MatchKey(models.TextChoices):
        MOBILE = "mobile", _("Mobile")
        VIN = "vin", _("VIN")

    class OnMatch(models.TextChoices):
        SKIP = "skip", _("Skip the row")
        UPDATE = "update", _("Update the existing customer")

    kind = models.CharField(pgettext_lazy("import", "kind"), max_length=10, choices=ImportMapping.Kind.choices,
                            default=ImportMapping.Kind.CUSTOMERS)
    file = models.FileField(_("file"), upload_to=import_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    created_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, related_name="+",
                                   verbose_name=_("by"))
    columns = models.JSONField(_("columns"), default=dict)  # {header: field}
    match_key = models.CharField(_("duplicate key"), max_length=10, choices=MatchKey.choices,
                                 default=MatchKey.MOBILE)
    on_match = models.CharField(_("on a match"), max_length=10, choices=OnMatch.choices, default=OnMatch.SKIP)
    all_or_nothing = models.BooleanField(_("all or nothing"), default=False)
    # where customers without an owner in the file go: this team's queue, or (empty) to the importer
    department = models.ForeignKey("accounts.Department", on_delete=models.SET_NULL, null=True, blank=True,
                                   db_index=False, related_name="+", verbose_name=_("team queue"))
    status = models.CharField(_("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.DRAFT)
    total_rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    processed_rows = models.PositiveIntegerField(_("processed"), default=0)
    created_count = models.PositiveIntegerField(pgettext_lazy("import count", "created"), default=0)
    updated_count = models.PositiveIntegerField(pgettext_lazy("import count", "updated"), default=0)
    skipped_count = models.PositiveIntegerField(_("skipped"), default=0)
    rejected_count = models.PositiveIntegerField(_("rejected"), default=0)
    report = models.FileField(_("report"), upload_to=import_path, max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # the file's header row, read at the upload; the rows are read by the worker only (import_check, import_run)
    headers = models.JSONField(_("headers"), default=list, blank=True)
    # chosen on the mapping page: {"dates": {header: date order}, "order": {field: [header, …]}}
    options = models.JSONField(_("options"), default=dict, blank=True)
    # each change of the mapping or options counts up; the worker's check of the rows is for one revision
    revision = models.PositiveIntegerField(_("revision"), default=0)
    # the worker's check for a revision: {"revision", "total", "counts", "reasons", "samples", "dates", "error"}
    summary = models.JSONField(_("summary"), default=dict, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["tenant", "created_at", "id"], name="import_tenant_created"),
                   # the jobs crm.requeue's sweep looks at: few at any time, whatever the history
                   models.Index(fields=["tenant", "updated_at"], name="import_waiting",
                                condition=Q(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]))]

    @property
    def checked(self) -> bool:
        """Whether the rows were checked with the mapping and options saved now."""
        return self.summary.get("revision") == self.revision


class ImportRow(TenantModel):
    """A row of an import as its pages show it: before the run every rejected row and the first others, after
    the run every rejected row. Numbered in the order shown (rejected first), so a page is a range."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="shown_rows")
    position = models.PositiveIntegerField()
    line = models.PositiveIntegerField(_("row"))
    outcome = models.CharField(_("outcome"), max_length=10)
    cells = models.JSONField(default=list)  # [[text, read], …] per shown field
    errors = models.JSONField(default=list)

    class Meta:
        verbose_name = _("import row")
        verbose_name_plural = _("import rows")
        constraints = [models.UniqueConstraint(fields=["tenant", "job", "position"], name="import_row_position")]
