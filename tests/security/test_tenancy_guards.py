"""Structural guards: every project model is tenant-owned or allowlisted; the scope is disabled only
in listed places; a query without a scope fails closed."""

import re
from pathlib import Path

import pytest
from django.apps import apps
from django_scopes import ScopeError

from accounts.models import Department
from crm.tenancy import TenantModel

ROOT = Path(__file__).resolve().parents[2]
PROJECT_APPS = {"crm", "accounts", "customers", "service", "club", "analytics"}

# Models that are not owned by one tenant, and why.
ALLOWLIST = {
    "accounts.Tenant": "the tenant itself",
    "accounts.User": "a login; belongs to a tenant through Staff, platform operators have none",
    "accounts.User_groups": "Django's platform-wide groups (role kinds); tenant admins cannot edit them",
    "accounts.User_user_permissions": "per-user permissions; hidden from tenant admins",
}

# Every place the tenant scope is bypassed: (file, number of occurrences). Adding one means adding it
# here, in review.
SCOPE_BYPASSES = {
    "crm/admin.py": 1,  # platform superusers in the admin see every tenant
}


def test_every_project_model_is_tenant_owned_or_allowlisted():
    offenders = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.app_label not in PROJECT_APPS:
            continue
        if issubclass(model, TenantModel) or model._meta.label in ALLOWLIST:
            continue
        offenders.append(model._meta.label)
    assert not offenders, f"inherit crm.tenancy.TenantModel or justify in ALLOWLIST: {offenders}"


def test_tenant_unique_constraints_start_with_tenant():
    for model in apps.get_models():
        if not issubclass(model, TenantModel):
            continue
        for constraint in model._meta.constraints:
            fields = getattr(constraint, "fields", ())
            if fields:
                assert fields[0] == "tenant", f"{model._meta.label}.{constraint.name} must start with tenant"


def test_scope_is_disabled_only_in_listed_places():
    pattern = re.compile(r"scopes_disabled\(|with_scopes_disabled\(|_base_manager")
    found = {}
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith((".venv/", "var/", "tests/")) or "/migrations/" in relative:
            continue
        count = len(pattern.findall(path.read_text()))
        if count:
            found[relative] = count
    assert found == SCOPE_BYPASSES


@pytest.mark.django_db
def test_query_without_scope_fails_closed():
    with pytest.raises(ScopeError):
        list(Department.objects.all())
