"""Where uploaded files are stored (the `upload_to` of the documents, imports and exports)."""

import uuid
from pathlib import Path


def _private_path(folder: str, instance, filename: str) -> str:
    """Uploaded files live under MEDIA_ROOT/<folder>/<tenant>/ with a random name (never served directly:
    downloads go through views that check who may see them)."""
    suffix = Path(filename).suffix.lower()[:10]
    return f"{folder}/{instance.tenant_id}/{uuid.uuid4().hex}{suffix}"


def document_path(instance, filename):
    return _private_path("documents", instance, filename)


def import_path(instance, filename):
    return _private_path("imports", instance, filename)


def export_path(instance, filename):
    return _private_path("exports", instance, filename)
