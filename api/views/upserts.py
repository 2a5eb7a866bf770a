"""/api/v1/customers/upsert/ and /api/v1/customers/bulk-upsert/: the dealer management system's customers written
by its own keys (api.services.upserts): created, updated, or left as they are when nothing changed — so the same
export sent twice changes nothing the second time."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from api.serializers.customer_writes import (
    BulkUpsertResultSerializer,
    BulkUpsertSerializer,
    RowErrors,
    UpsertResultSerializer,
    UpsertRowSerializer,
)
from api.serializers.fast import FastInput
from api.services.upserts import CREATED, ERROR, customers_upsert
from api.views.base import IDEMPOTENCY_KEY, WRITE_ERRORS, ResourceViewSet
from customers.models import Customer

ROWS = FastInput(UpsertRowSerializer)  # a thousand rows a request: their checks planned once


def _shown(outcome) -> dict:
    return {"result": outcome.result, "id": outcome.id, "vehicles": outcome.vehicles,
            "purchases": outcome.purchases, "service_visits": outcome.service_visits}


class CustomerUpsertViewSet(ResourceViewSet):
    """Customers written by the dealer management system's keys."""

    resource = "customers"
    queryset = Customer.objects.none()  # the model, for the schema and the URL matrix
    serializer_class = UpsertRowSerializer

    @extend_schema(parameters=[IDEMPOTENCY_KEY], request=UpsertRowSerializer, responses={
        200: UpsertResultSerializer, 201: UpsertResultSerializer, 400: RowErrors, **WRITE_ERRORS})
    @action(detail=False, methods=["post"])
    def upsert(self, request):
        """One customer, matched by `dms_number` (or, for one the DMS has not numbered yet, by mobile), else by
        `mobile`; created when nobody matches (an owner or a team needed then). Their `vehicles` are matched by VIN,
        `purchases` by contract number, `service_visits` by repair order: new ones are added (a purchase or visit
        as if entered on the customer page: its follow-ups, survey and points follow), known ones left as they
        are. A row equal to what is stored changes nothing (`unchanged`)."""
        row = UpsertRowSerializer(data=request.data)
        row.is_valid(raise_exception=True)
        outcome = customers_upsert(tenant=request.auth.tenant, rows=[row.validated_data])[0]
        if outcome.result == ERROR:
            raise serializers.ValidationError(outcome.errors)
        return Response(_shown(outcome), status=status.HTTP_201_CREATED if outcome.result == CREATED
                        else status.HTTP_200_OK)

    @extend_schema(parameters=[IDEMPOTENCY_KEY], request=BulkUpsertSerializer, responses={
        200: BulkUpsertResultSerializer, 400: RowErrors, **WRITE_ERRORS})
    @action(detail=False, methods=["post"], url_path="bulk-upsert")
    def bulk_upsert(self, request):
        """Up to 1,000 rows as /customers/upsert/ takes them, each written on its own: a row refused is reported
        with its messages (`result: error`) and the others are written. The results are in the rows' order."""
        body = BulkUpsertSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rows, refused = [], {}
        for index, raw in enumerate(body.validated_data["rows"]):
            row, errors = ROWS.validate(raw)
            rows.append(row)
            if errors is not None:
                refused[index] = errors
        outcomes = customers_upsert(tenant=request.auth.tenant, rows=rows)
        results = []
        for index, outcome in enumerate(outcomes):
            if outcome is None:
                results.append({"index": index, "result": ERROR, "id": None, "errors": refused[index]})
            elif outcome.result == ERROR:
                results.append({"index": index, "result": ERROR, "id": None, "errors": outcome.errors})
            else:
                results.append({"index": index, **_shown(outcome), "errors": {}})
        return Response({"results": results})
