"""What every endpoint of the API shares: the credential's tenant scope for the whole request."""

from __future__ import annotations

from contextlib import ExitStack

from django.utils import timezone
from django_scopes import scope

from crm.tenancy import render_inside


class TenantScopedMixin:
    """Activates the tenant of the request's credential (api.auth.BearerAuthentication) once DRF has authenticated
    it, with its time zone, and renders the response inside them — what crm.tenancy.TenantMiddleware does for a
    logged-in page. A session's scope, if a cookie came along, is replaced by the credential's."""

    def dispatch(self, request, *args, **kwargs):
        with ExitStack() as stack:
            self._tenant_scope = stack
            return render_inside(super().dispatch(request, *args, **kwargs))

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttling
        tenant = request.auth.tenant
        self._tenant_scope.enter_context(scope(tenant=tenant))
        self._tenant_scope.enter_context(timezone.override(tenant.timezone))

    def masked(self) -> bool:
        """Personal data is masked for a read-only credential, as for a data analyst."""
        return self.request.auth.read_only
