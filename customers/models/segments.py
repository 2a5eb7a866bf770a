"""Customer segments (客户分群): a named, saved filter of the customer list, shared in the company. Its customers are
found when it is used — the segment page's size and profile (analytics), a follow-up campaign, a one-off survey
send, a club activity's audience — each time as the user or the job using it may see them."""

from django.core.validators import MinLengthValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.tenancy import TenantModel


class Segment(TenantModel):
    name = models.CharField(_("name"), max_length=100, validators=[MinLengthValidator(1)])
    description = models.TextField(_("description"), max_length=1000, blank=True)
    query = models.CharField(_("filter"), max_length=2000, blank=True,
                             help_text=_("The customer list's filter (the part of its address after “?”)."))
    created_by = models.ForeignKey("accounts.Staff", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", db_index=False, verbose_name=_("created by"))

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="segment_unique_name")]

    def __str__(self):
        return self.name
