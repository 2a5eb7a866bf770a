"""Who may call the API, as Django REST framework's authentication, permission and throttle classes.

A request carries `Authorization: Bearer <prefix>.<secret>` and nothing else counts: no session cookie (so no
CSRF either: the browser's cookies give a page on another site nothing here), no password. The tenant comes from
the credential only; `TenantScopedMixin` (api.views) activates its scope for the rest of the request."""

from __future__ import annotations

import hmac

import django_scopes
from axes.helpers import get_client_ip_address
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import scope
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling

from api.models import ApiCredential
from api.scopes import RESOURCES
from api.services.credentials import api_credential_touch, secret_hash

KEYWORD = "Bearer"


class ApiClient:
    """`request.user` of an API request: the integration, not a person (credentials belong to the tenant)."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = is_superuser = False
    pk = id = None

    def __init__(self, credential: ApiCredential):
        self.credential = credential
        self.tenant = credential.tenant

    def __str__(self):
        return f"api:{self.credential.prefix}"

    def has_perm(self, perm, obj=None) -> bool:
        return False


def _refuse(message) -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed(message)


class BearerAuthentication(authentication.BaseAuthentication):
    """The credential named by the token's prefix whose secret matches (compared in constant time), not revoked,
    not expired, of an active tenant, used from an allowed address. Anything else: 401 with a JSON error."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() != KEYWORD.lower():
            return None  # → 401 "Authentication credentials were not provided."
        if len(header) != 2 or header[1].count(".") != 1:
            raise _refuse(_("Send the token as: Authorization: Bearer <token>."))
        prefix, secret = header[1].split(".")
        wanted = secret_hash(prefix, secret)
        # the scope is not known until the credential is: it is looked up across tenants by its prefix alone
        with django_scopes.scopes_disabled():
            candidates = list(ApiCredential.objects.select_related("tenant").filter(prefix=prefix)[:5])
        credential = None
        for candidate in candidates:
            if hmac.compare_digest(candidate.secret_hash, wanted):
                credential = candidate
        if credential is None:
            raise _refuse(_("Invalid token."))
        now = timezone.now()
        refusal = credential.refusal(now)
        if refusal == "revoked":
            raise _refuse(_("This token has been revoked."))
        if refusal == "expired":
            raise _refuse(_("This token has expired."))
        if refusal is not None:
            raise _refuse(_("Invalid token."))
        if not credential.allows_address(get_client_ip_address(request._request) or ""):
            raise _refuse(_("This token may not be used from this address."))
        request._request.tenant = credential.tenant  # what the filters and selectors read, as on the pages
        request._request.staff = None
        with scope(tenant=credential.tenant):
            api_credential_touch(credential=credential, now=now)
        return ApiClient(credential), credential

    def authenticate_header(self, request):
        return f'{KEYWORD} realm="api"'


class CredentialScopes(permissions.BasePermission):
    """The credential's scope for the view's resource (api.scopes): read for a safe method, read-write for any
    other; a read-only credential never writes (403 with the reason)."""

    def has_permission(self, request, view):
        credential = request.auth
        if not isinstance(credential, ApiCredential):
            return False
        resource = getattr(view, "resource", None)
        write = request.method not in permissions.SAFE_METHODS
        if resource is None:  # a view of no resource (none yet) reads nothing of the tenant's
            return not write
        if credential.allows(resource, write=write):
            return True
        if write and credential.allows(resource):
            self.message = _("This credential is read-only.") if credential.read_only else \
                _("This credential may read but not change: %(resource)s.") % {"resource": RESOURCES[resource]}
        else:
            self.message = _("This credential has no access to: %(resource)s.") % {"resource": RESOURCES[resource]}
        return False


class CredentialRateThrottle(throttling.SimpleRateThrottle):
    """Requests per credential (settings.API_RATE, e.g. "600/min"), counted in the shared cache (Redis) so every
    web process sees one count; over it: 429 with Retry-After."""

    scope = "api"

    def get_rate(self):
        return settings.API_RATE

    def get_cache_key(self, request, view):
        credential = request.auth
        if not isinstance(credential, ApiCredential):
            return None
        return self.cache_format % {"scope": self.scope, "ident": credential.pk}


class BearerScheme(OpenApiAuthenticationExtension):
    """How the schema (and the docs page's Authorize button) describes BearerAuthentication."""

    target_class = BearerAuthentication
    name = "bearer"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "A credential's token, `<prefix>.<secret>`, issued by the company's administrator."}
