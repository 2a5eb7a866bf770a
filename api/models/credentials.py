"""API credentials: what another system (the DMS, telephony, a BI tool) presents as `Authorization: Bearer
<prefix>.<secret>`. As NetBox's v2 tokens: the prefix is shown and looked up, the secret is shown once and only
its keyed hash is kept. A credential belongs to the tenant, not to a person: it outlives whoever created it."""

from __future__ import annotations

import ipaddress

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from api.scopes import LEVELS, RESOURCES, WRITE
from crm.tenancy import TenantModel

PREFIX_LENGTH = 8
MAX_NETWORKS = 20


def validate_network(value: str) -> None:
    """One IPv4 or IPv6 address or network in CIDR notation (10.0.0.0/8, 203.0.113.7, 2001:db8::/32)."""
    try:
        ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise ValidationError(_("Enter an IP address or a network such as 10.0.0.0/8."), code="invalid") from None


def _normalized(value: str) -> str:
    """10.1.2.3/8 → 10.0.0.0/8; a bad value is left as it is for its field's error (validate_network)."""
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        return value


class ApiCredential(TenantModel):
    name = models.CharField(_("name"), max_length=100, help_text=_("The system that uses it, e.g. DMS."))
    # a token names its credential before any tenant is known: looked up by its own index across tenants (random,
    # 40 bits: the authentication compares the secret of every row that shares it), unique within the tenant
    prefix = models.CharField(_("prefix"), max_length=PREFIX_LENGTH, db_index=True, editable=False)
    secret_hash = models.CharField(_("secret hash"), max_length=64, editable=False)
    read_only = models.BooleanField(
        _("read-only"), default=True,
        help_text=_("A read-only credential cannot write and sees personal data masked, as a data analyst does."))
    # {resource: "read" | "write"} (api.scopes): a resource left out cannot be reached at all
    scopes = models.JSONField(_("access"), default=dict, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    allowed_networks = ArrayField(
        models.CharField(max_length=49, validators=[validate_network]), size=MAX_NETWORKS, default=list, blank=True,
        verbose_name=_("allowed addresses"),
        help_text=_("Comma-separated addresses or networks (CIDR) the credential may be used from; empty: any."))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True, editable=False,
                                   related_name="+", verbose_name=_("created by"))

    class Meta:
        verbose_name = _("API credential")
        verbose_name_plural = _("API credentials")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="api_credential_unique_name",
                                    violation_error_message=_("A credential with this name already exists.")),
            models.UniqueConstraint(fields=["tenant", "prefix"], name="api_credential_unique_prefix"),
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix})"

    def clean(self):
        super().clean()
        self.allowed_networks = [_normalized(n) for n in self.allowed_networks or [] if n.strip()]
        scopes = self.scopes if isinstance(self.scopes, dict) else None
        if scopes is None or any(key not in RESOURCES or level not in LEVELS for key, level in scopes.items()):
            raise ValidationError({"scopes": _("Choose no access, read, or read and write for each resource.")})
        if self.read_only and WRITE in scopes.values():
            raise ValidationError({"scopes": _("A read-only credential cannot write: choose read for every "
                                               "resource, or clear read-only.")})
        if not scopes:
            raise ValidationError({"scopes": _("Give the credential access to at least one resource.")})

    def allows(self, resource: str, *, write: bool = False) -> bool:
        """Whether the credential may read (or, write=True, change) this resource of api.scopes.RESOURCES."""
        level = (self.scopes or {}).get(resource)
        if write:
            return level == WRITE and not self.read_only
        return level in LEVELS

    def refusal(self, now=None) -> str | None:
        """Why this credential may not be used now (revoked, expired, its tenant switched off), or None."""
        now = now or timezone.now()
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        if not self.tenant.is_active:
            return "inactive"
        return None

    def allows_address(self, address: str) -> bool:
        if not self.allowed_networks:
            return True
        try:
            client = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(client in ipaddress.ip_network(n, strict=False) for n in self.allowed_networks)
