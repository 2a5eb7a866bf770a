"""A manufacturer export of each tenant with one run whose file is stored: what the URL matrix opens."""

from __future__ import annotations

from datetime import date

from django.core.files.base import ContentFile

from analytics.models import ManufacturerExport, ManufacturerExportRun


def seed(tenant) -> None:
    export = ManufacturerExport.objects.create(
        tenant=tenant, name="DCRM 客户档案", dataset=ManufacturerExport.Dataset.CUSTOMERS, format="csv",
        frequency="daily", recipients=["dcrm@oem.example.cn"],
        columns=[{"key": "customer_id", "header": "客户编号"}, {"key": "name", "header": "客户姓名"}])
    run = ManufacturerExportRun(tenant=tenant, export=export, period_start=date(2025, 3, 1),
                                period_end=date(2025, 3, 1), status=ManufacturerExportRun.Status.SENT,
                                rows=0, file_name="DCRM-20250301.csv", recipients=export.recipients)
    run.file.save(run.file_name, ContentFile("\ufeff客户编号,客户姓名\r\n".encode()), save=False)
    run.size = run.file.size
    run.save()
