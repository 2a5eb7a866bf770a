"""How a view declares who may open it.

Every URL pattern of the project points at a view wrapped by `staff_view` or `public_view`. The
declaration is data (`view.crm_access`) that the URL × persona matrix in tests/security reads, so
a new view is covered by the isolation tests the moment it is routed; an undeclared view fails
that test."""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import models


@dataclass(frozen=True)
class Access:
    public: bool = False
    perm: str | None = None  # a model permission the user must hold, None: any active staff member
    model: type[models.Model] | None = None  # the tenant model whose pk the URL carries


def staff_view(view=None, *, perm: str | None = None, model: type[models.Model] | None = None):
    """A page for logged-in staff of a tenant. Anonymous → login; a platform operator without a
    tenant, or staff without `perm` → 403. Objects are fetched by the view through access helpers
    that return 404 for another tenant's or an invisible row."""

    def decorate(func):
        @wraps(func)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if request.tenant is None or (perm and not request.user.has_perm(perm)):
                raise PermissionDenied
            return func(request, *args, **kwargs)

        wrapper.crm_access = Access(perm=perm, model=model)
        return wrapper

    return decorate(view) if view is not None else decorate


def public_view(view):
    """A page anyone may open (login, password reset, health)."""
    view.crm_access = Access(public=True)
    return view
