"""Scanned paper documents of a customer."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.tenancy import TenantModel
from customers.models.customers import Customer
from customers.models.files import document_path


class CustomerDocument(TenantModel):
    """A scanned paper document (书面档案): contract, work order, settlement statement."""

    class Kind(models.TextChoices):
        CONTRACT = "contract", _("Purchase contract")
        WORK_ORDER = "work_order", _("Work order")
        SETTLEMENT = "settlement", _("Settlement statement")
        ID_COPY = "id_copy", _("ID copy")
        OTHER = "other", _("Other")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="documents",
                                 verbose_name=_("customer"))
    kind = models.CharField(_("type"), max_length=12, choices=Kind.choices)
    title = models.CharField(pgettext_lazy("document", "title"), max_length=200)
    file = models.FileField(_("file"), upload_to=document_path, max_length=200)
    content_type = models.CharField(_("content type"), max_length=50, editable=False)
    size = models.PositiveIntegerField(_("size (bytes)"), editable=False)
    uploaded_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, related_name="+",
                                    verbose_name=_("uploaded by"))

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        indexes = [models.Index(fields=["tenant", "customer", "created_at"], name="document_tenant_customer")]

    def __str__(self):
        return self.title
