"""Shared-schema tenancy that fails closed.

Every tenant-owned model inherits `TenantModel`; its default manager is django-scopes'
`ScopedManager`, which raises unless a tenant scope is active. The scope is activated in exactly
these places: `TenantMiddleware` (the logged-in user's tenant, response rendered inside it),
`TenantTask` (a Celery task's `tenant_id` argument), and explicit `scope(tenant=...)` blocks in
management commands. Bypassing the scope appears only where tests/security/test_tenancy_guards.py lists it.
"""

from __future__ import annotations

import logging

from celery import Task
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager, scope

logger = logging.getLogger(__name__)


class TenantModel(models.Model):
    """Base of every tenant-owned model: the tenant on the row itself, timestamps, a scoped manager.

    Unique constraints and composite indexes of subclasses start with `tenant`."""

    # No index of its own: every subclass has a unique constraint or index that starts with tenant.
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, db_index=False,
                               verbose_name=_("company"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ScopedManager(tenant="tenant")

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        self._check_same_tenant()

    def _check_same_tenant(self):
        """Refuse a foreign key to another tenant's row (the admin of a platform operator can pick
        across tenants; everyone else only sees their own choices)."""
        errors = {}
        for field in self._meta.concrete_fields:
            if not field.many_to_one or field.name == "tenant":
                continue
            if not issubclass(field.related_model, TenantModel):
                continue
            related = getattr(self, field.name, None)
            if related is not None and self.tenant_id and related.tenant_id != self.tenant_id:
                errors[field.name] = _("Choose an item of the same company.")
        if errors:
            raise ValidationError(errors)


def require_same_tenant(tenant, *objects) -> None:
    """Refuse, as a service's bad input, any of `objects` (None skipped) that belongs to another tenant than
    `tenant`: what TenantModel.clean() says of a foreign key, for services that take related rows as arguments."""
    for obj in objects:
        if obj is not None and obj.tenant_id != tenant.pk:
            raise ValidationError(_("Choose an item of the same company."))


def render_inside(response):
    """Render a lazy TemplateResponse now, while the scope is still active."""
    if hasattr(response, "render") and callable(response.render) and not response.is_rendered:
        response.render()
    return response


class TenantMiddleware:
    """Sets `request.staff` / `request.tenant` for a logged-in member, activates the tenant scope,
    the tenant's time zone and the user's language, and renders the response inside them.

    Membership is checked by accounts.backends.StaffBackend.get_user: an inactive staff member or
    tenant is logged out on their next request. Without a tenant no scope is active, so any query
    on tenant data raises."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.staff = request.tenant = None
        user = request.user
        if user.is_authenticated:
            request.staff = getattr(user, "staff", None)
            request.tenant = request.staff.tenant if request.staff else None
            language = user.language or (request.tenant.default_language if request.tenant else None)
            if language:
                request.LANGUAGE_CODE = language
        # override, not activate: the language must not outlive the request in this thread
        with translation.override(getattr(request, "LANGUAGE_CODE", translation.get_language())):
            if request.tenant is None:
                return render_inside(self.get_response(request))
            with scope(tenant=request.tenant), timezone.override(request.tenant.timezone):
                return render_inside(self.get_response(request))


class TenantTask(Task):
    """Base for Celery tasks on tenant data, as pretix's `EventTask` hands the loaded event to its body.

    The message carries the tenant's id (`task.delay(tenant_id=tenant.pk, ...)`, the keyword messages in
    the broker have always had); the body receives the loaded `Tenant` as its first argument
    (`def generate_followups(tenant, *, customer_ids=None)`) and runs inside that tenant's scope and time
    zone. A deactivated or deleted tenant's work is skipped. `fan_out()` queues the task once per active
    tenant: the periodic jobs' `*_all` tasks are one call of it."""

    abstract = True
    # The body's signature takes `tenant`, the message `tenant_id`: apply_async checks the arguments instead.
    typing = False

    def apply_async(self, args=None, kwargs=None, *rest, **options):
        """Refuse, when it is sent, a message the body could not take (as Celery's `typing` check does),
        with the message's `tenant_id` in the place of the body's `tenant`."""
        body_kwargs = dict(kwargs or {})
        tenant_id = body_kwargs.pop("tenant_id", None)
        if tenant_id is None:
            raise TypeError(f"{self.name} must be called with a tenant_id keyword argument")
        check_arguments = getattr(self, "__header__", None)
        if check_arguments is not None:
            check_arguments(tenant_id, *(args or ()), **body_kwargs)
        return super().apply_async(args, kwargs, *rest, **options)

    def __call__(self, *args, **kwargs):
        Tenant = apps.get_model("accounts", "Tenant")  # by its label, as TenantModel names it: crm imports no app

        tenant_id = kwargs.pop("tenant_id", None)
        if tenant_id is None:
            raise TypeError(f"{self.name} must be called with a tenant_id keyword argument")
        tenant = Tenant.objects.filter(pk=tenant_id, is_active=True).first()
        if tenant is None:
            logger.info("%s skipped: tenant %s is missing or inactive", self.name, tenant_id)
            return None
        with scope(tenant=tenant), timezone.override(tenant.timezone):
            return super().__call__(tenant, *args, **kwargs)

    def fan_out(self, **kwargs) -> int:
        """Queue this task once per active tenant, with `kwargs`; returns how many were queued. Tenants are
        not tenant-owned rows: no scope is needed to list them."""
        Tenant = apps.get_model("accounts", "Tenant")
        tenant_ids = list(Tenant.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
        for tenant_id in tenant_ids:
            self.delay(tenant_id=tenant_id, **kwargs)
        return len(tenant_ids)
