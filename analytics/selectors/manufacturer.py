"""Reads of the manufacturer's survey results import (厂家满意度调查结果): the stored file's columns with sample
values for the mapping page, and the tenant's newest imports. The writes are in analytics.services.manufacturer."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from analytics.models import ManufacturerImport
from crm.spreadsheets import Sheet, read_sheet

SAMPLE_ROWS = 50  # rows read for the sample values of the mapping page
SAMPLES = 3  # distinct sample values shown per column


def manufacturer_file_sheet(batch: ManufacturerImport) -> Sheet:
    """The stored file of an import, read again (the mapping page's samples, the import's rows)."""
    try:
        with batch.file.open("rb") as handle:
            data = handle.read()
    except (FileNotFoundError, OSError, ValueError):
        raise ValidationError(_("The uploaded file is gone. Delete this import and upload the file again.")) \
            from None
    return read_sheet(data, batch.original_name)


@dataclass
class FileColumns:
    headers: list[str]  # the named columns, in the file's order
    samples: dict[str, list[str]]  # header → a few distinct values from the first rows

    @property
    def pairs(self) -> list[tuple[str, list[str]]]:
        return [(header, self.samples[header]) for header in self.headers]


def manufacturer_file_columns(batch: ManufacturerImport) -> FileColumns:
    """The file's column headers and a few sample values of each, for the mapping page (the first rows only)."""
    sheet = manufacturer_file_sheet(batch)
    named = [(i, h) for i, h in enumerate(sheet.headers) if h]
    samples: dict[str, list[str]] = {h: [] for _i, h in named}
    for count, row in enumerate(sheet.rows):
        if count >= SAMPLE_ROWS:
            break
        for index, header in named:
            found = samples[header]
            value = row[index]
            if value and len(found) < SAMPLES and value[:40] not in found:
                found.append(value[:40])
    return FileColumns([h for _i, h in named], samples)


def manufacturer_import_list(*, limit: int = 50) -> list[ManufacturerImport]:
    """The active tenant's newest imports (a read, for the list page: capped, two joins, no count)."""
    return list(ManufacturerImport.objects.select_related("survey", "created_by__user")
                .order_by("-created_at", "-id")[:limit])
