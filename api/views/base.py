"""What every endpoint of the API shares: the credential's tenant scope for the whole request, the shape of a
resource's list (keyset pages by (updated_at, id), `updated_since` for a sync, personal data masked for a
read-only credential), and its writes: one transaction each, `Idempotency-Key` honoured (api.idempotency)."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import UTC

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django_scopes import scope
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, viewsets

from accounts.visibility import Visibility
from api import idempotency
from api.serializers.errors import Error
from crm import replica
from crm.forms import check_date_range
from crm.tenancy import render_inside

UPDATED_SINCE = OpenApiParameter(
    "updated_since", OpenApiTypes.DATETIME, OpenApiParameter.QUERY,
    description="Only rows changed at or after this moment (ISO 8601; without an offset: the company's time "
                "zone). Rows deleted or merged away meanwhile are listed at /api/v1/deletions/.")
# what a route's <int:pk> matches (no sign) and a bigint holds: anything else never reaches the API
ID = OpenApiParameter("id", {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}, OpenApiParameter.PATH)
ERRORS = {status: Error for status in (401, 403, 404, 429)}
WHOLE_TENANT = Visibility(everything=True, staff_ids=frozenset(), queue_department_ids=frozenset(),
                          reads_all_masked=False)
IDEMPOTENCY_KEY = OpenApiParameter(
    idempotency.HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER,
    description="Any unique string (a UUID) per write: a retry with the same key and body is not done again but "
                "answered with the first response (header `Idempotent-Replayed: true`); the same key with another "
                "body is a 422, while the first is still running a 409. Kept 24 hours.")
WRITE_ERRORS = {status: Error for status in (401, 403, 404, 409, 422, 429)}
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def parse_moment(value: str, name: str):
    """An ISO 8601 moment within 1900–2100 (as every form's date: crm.forms), in UTC; a bad one is a 400."""
    try:
        moment = parse_datetime(value)
        if moment is None:
            raise ValueError
        check_date_range(moment)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment.astimezone(UTC)  # an offset PostgreSQL would refuse (-19:32) is gone
    except DjangoValidationError as error:
        raise exceptions.ValidationError({name: error.messages}) from None
    except (ValueError, OverflowError):
        raise exceptions.ValidationError(
            {name: [_("Enter a date and time in ISO 8601, e.g. 2026-01-31T08:00:00Z.")]}) from None


class TenantScopedMixin:
    """Activates the tenant of the request's credential (api.auth.BearerAuthentication) once DRF has authenticated
    it, with its time zone, and renders the response inside them — what crm.tenancy.TenantMiddleware does for a
    logged-in page. A session's scope, if a cookie came along, is replaced by the credential's."""

    def dispatch(self, request, *args, **kwargs):
        with ExitStack() as stack:
            self._tenant_scope = stack
            response = render_inside(super().dispatch(request, *args, **kwargs))
        credential = getattr(self.request, "auth", None)
        if request.method in WRITES and response.status_code < 400 and credential is not None:
            replica.wrote(f"credential:{credential.pk}")  # its next lists read the primary (crm.replica)
        return response

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttling
        tenant = request.auth.tenant
        self._tenant_scope.enter_context(scope(tenant=tenant))
        self._tenant_scope.enter_context(timezone.override(tenant.timezone))
        self._tenant_scope.enter_context(replica.acting_as(f"credential:{request.auth.pk}"))
        # a credential reads the whole tenant (its scopes decide the resources, not the rows): the pages'
        # FilterSets, which build their choices from what the reader may see (accounts.visibility), see every record
        request.user._crm_visibility = WHOLE_TENANT

    def masked(self) -> bool:
        """Personal data is masked for a read-only credential, as for a data analyst."""
        return self.request.auth.read_only


class IdempotentWritesMixin:
    """Every write of the API in one transaction (as ATOMIC_REQUESTS gives the pages), with `Idempotency-Key`
    (api.idempotency): the key is claimed in a committed transaction of its own before the write's begins, and the
    response kept with it — inside the write's transaction when it succeeded, so a write is never done without its
    key knowing; after it otherwise."""

    _idempotency = None
    _in_transaction = False

    @classmethod
    def as_view(cls, actions=None, **initkwargs):
        # the request's transaction is opened here, after the key's claim (api.idempotency) has committed
        return transaction.non_atomic_requests(super().as_view(actions, **initkwargs))

    def dispatch(self, request, *args, **kwargs):
        self._idempotency, self._in_transaction = None, False
        try:
            response = super().dispatch(request, *args, **kwargs)
        except BaseException:
            if self._idempotency is not None:
                idempotency.release(self._idempotency)
            raise
        if self._idempotency is not None:  # not kept inside the write's transaction (refused, rolled back)
            idempotency.finish(self._idempotency, response)
        return response

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttling, the tenant's scope
        if request.method in WRITES:
            key = idempotency.key_of(request)
            if key is not None:
                self._idempotency = idempotency.claim(credential=request.auth, key=key,
                                                      fingerprint=idempotency.fingerprint(request))
        # the request's transaction (the write's, or a read's one snapshot), left after rendering
        self._tenant_scope.enter_context(transaction.atomic())
        self._in_transaction = True
        if self.action == "list":  # the read load: a sync walks every page (crm.replica)
            self._tenant_scope.enter_context(replica.replica_reads())

    def handle_exception(self, exc):
        if isinstance(exc, idempotency.Replay):
            return exc.response
        if self._in_transaction:
            return super().handle_exception(exc)  # rolls the request's transaction back
        # refused before the request's transaction began (401, 403, 429, the key's 409 and 422): nothing to roll
        # back, and DRF's handler would mark a transaction around the request (a test's) instead
        connection = transaction.get_connection()
        marked = connection.in_atomic_block and connection.needs_rollback
        response = super().handle_exception(exc)
        if connection.in_atomic_block and not marked:
            connection.set_rollback(False)
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record = self._idempotency
        if record is not None and idempotency.kept(response) and transaction.get_autocommit() is False \
                and not transaction.get_rollback():
            idempotency.finish(record, response)  # in the write's transaction: both or neither
            self._idempotency = None
        return response


class ResourceViewSet(IdempotentWritesMixin, TenantScopedMixin, viewsets.GenericViewSet):
    """One resource of the API (`resource`: a key of api.scopes.RESOURCES, which the credential's scopes name).
    Subclasses give `queryset` (the model, for the schema and the URL matrix) and `rows()` (the tenant's rows,
    read inside the scope); the list is walked by keyset (api.pagination: ordered by updated_at, id, so the
    model needs an index on (tenant, updated_at, id)) and narrowed by `updated_since`."""

    resource: str
    lookup_value_converter = "int"

    def rows(self):
        raise NotImplementedError

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema, outside any tenant
            return self.queryset
        rows = self.rows()
        since = self.request.query_params.get("updated_since") if self.action == "list" else None
        if since:
            rows = rows.filter(updated_at__gte=parse_moment(since, "updated_since"))
        return rows

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self.request, "auth", None) is not None:
            context["masked"] = self.masked()
        return context
