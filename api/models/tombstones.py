"""Tombstones: what a sync by `updated_since` cannot see, because the row is gone. A deleted row (or a customer
merged into another, who leaves the list) leaves one; /api/v1/deletions/ lists them by the same keyset as the
lists, so a system that keeps a copy removes its row too."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from api.scopes import RESOURCES
from crm.tenancy import TenantModel


class Tombstone(TenantModel):
    resource = models.CharField(_("resource"), max_length=20, choices=list(RESOURCES.items()))
    # the API's name of the object's kind within the resource ("customer", "vehicle", "purchase", …)
    kind = models.CharField(_("kind"), max_length=30)
    object_id = models.BigIntegerField(_("object ID"))
    # a customer merged into another: the one that holds their history now
    replaced_by = models.BigIntegerField(_("replaced by"), null=True, blank=True)

    class Meta:
        verbose_name = _("deletion")
        verbose_name_plural = _("deletions")
        indexes = [models.Index(fields=["tenant", "resource", "updated_at", "id"], name="tombstone_tenant_walk")]

    def __str__(self):
        return f"{self.kind} {self.object_id}"
