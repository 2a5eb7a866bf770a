"""Which deletions leave a tombstone (api.models.Tombstone): the models the API lists, each with its resource
and kind. A module of the API that lists a model registers it here (`track`); the tombstone is written in the
deleting transaction. A customer merged into another leaves one too (api.receivers)."""

from __future__ import annotations

from django.db.models.signals import post_delete

from accounts.models import Tenant
from api.models import Tombstone
from api.scopes import RESOURCES

TRACKED: dict[type, tuple[str, str]] = {}  # model → (resource, kind)


def deleted(sender, instance, origin=None, **kwargs):
    if getattr(origin, "model", type(origin)) is Tenant:  # a whole company removed: nobody is left to sync
        return
    resource, kind = TRACKED[sender]
    Tombstone.objects.create(tenant_id=instance.tenant_id, resource=resource, kind=kind, object_id=instance.pk)


def track(model, *, resource: str, kind: str) -> None:
    """Leave a tombstone when a row of `model` is deleted (a queryset's delete() included: Django then deletes
    row by row, so keep it to models deleted a few at a time)."""
    assert resource in RESOURCES, resource
    TRACKED[model] = (resource, kind)
    post_delete.connect(deleted, sender=model, dispatch_uid=f"api-tombstone-{model._meta.label}")
