"""How a view declares who may open it.

Every URL pattern of the project points at a view wrapped by `staff_view` or `public_view`, or is an endpoint of
the REST API declared by `api_view`. The
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
    model: type[models.Model] | None = None  # the tenant model whose pk the URL carries (an API list: its rows)
    # an endpoint of the REST API (api/): a credential's token, never a session; no token → 401, another tenant's
    # object → 404, a read-only credential cannot write
    api: bool = False


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


def api_view(view, *, model: type[models.Model] | None = None):
    """An endpoint of the REST API (a Django REST framework view, api/urls.py): who may call it is decided by the
    API's own authentication and permissions (api.auth); `model` is the tenant model it lists or shows."""
    view.crm_access = Access(api=True, model=model)
    return view
