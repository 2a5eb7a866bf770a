"""What a credential may reach: one scope per resource of the API, each none, read or read-write. Views name their
resource (`resource = "customers"`); api.auth.CredentialScopes checks it. The keys are the contract with the
integrations' configuration: add resources, never rename one."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

READ, WRITE = "read", "write"
LEVELS = {READ: _("Read"), WRITE: _("Read and write")}

RESOURCES = {
    "customers": _("Customers, vehicles, purchases and service visits"),
    "leads": _("Leads"),
    "followups": _("Follow-ups and their calls"),
    "appointments": _("Appointments"),
    "surveys": _("Survey invitations and responses"),
    "complaints": _("Complaints"),
    "club": _("Club members, cards and the points journal"),
}


def every(level: str) -> dict[str, str]:
    """Every resource at one level: what a credential made without a choice gets (the command's default)."""
    return dict.fromkeys(RESOURCES, level)
