"""Keyset pagination of the API's lists by (updated_at, id): each page is an index range from where the last
one ended, so a page costs the same at the millionth row, a row is never skipped nor repeated while the list is
walked (a row changed meanwhile moves to the end, where the walk meets it again: what a sync wants), and no
total is counted. The cursor is opaque to the client: `next` is the whole URL of the following page."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


def encode_cursor(updated_at: datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([updated_at.isoformat(), pk]).encode()).decode().rstrip("=")


def decode_cursor(value: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        stamp, pk = json.loads(raw)
        moment = datetime.fromisoformat(stamp)
        if moment.tzinfo is None or not isinstance(pk, int) or isinstance(pk, bool):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationError({"cursor": [_("This cursor is not valid; start again without it.")]}) from None
    return moment, pk


class KeysetPagination(BasePagination):
    cursor_query_param = "cursor"
    limit_query_param = "limit"

    def _limit(self, request) -> int:
        raw = request.query_params.get(self.limit_query_param)
        if raw in (None, ""):
            return DEFAULT_LIMIT
        try:
            limit = int(raw)
        except ValueError:
            raise ValidationError({"limit": [_("Enter a whole number.")]}) from None
        if not 1 <= limit <= MAX_LIMIT:
            raise ValidationError({"limit": [_("Enter a number from 1 to %(max)s.") % {"max": MAX_LIMIT}]})
        return limit

    def paginate_queryset(self, queryset, request, view=None):
        limit = self._limit(request)
        cursor = request.query_params.get(self.cursor_query_param)
        if cursor:
            moment, pk = decode_cursor(cursor)
            # (updated_at, id) > (moment, pk), written so that the index (tenant, updated_at, id) starts its range at
            # the moment: the bare OR made PostgreSQL walk the index from the company's first row and filter (a page
            # deep into a million customers took seconds)
            queryset = queryset.filter(updated_at__gte=moment).filter(Q(updated_at__gt=moment) | Q(pk__gt=pk))
        rows = list(queryset.order_by("updated_at", "pk")[:limit + 1])
        self.next_url = None
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1]
            self.next_url = replace_query_param(request.build_absolute_uri(), self.cursor_query_param,
                                                encode_cursor(last.updated_at, last.pk))
        return rows

    def get_paginated_response(self, data):
        return Response({"next": self.next_url, "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri",
                         "description": "The next page, or null on the last one."},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {"name": self.cursor_query_param, "required": False, "in": "query",
             "description": "Where the page starts: taken from the previous page's `next`.",
             "schema": {"type": "string"}},
            {"name": self.limit_query_param, "required": False, "in": "query",
             "description": f"Rows per page, 1–{MAX_LIMIT} (default {DEFAULT_LIMIT}).",
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}},
        ]
