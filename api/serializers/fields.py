"""The fields of the API's write bodies: a row of the tenant named by its id, and a moment a person can mean."""

from __future__ import annotations

from datetime import UTC

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from crm.forms import check_date_range

MAX_ID = 2**63 - 1


class TenantRow(serializers.PrimaryKeyRelatedField):
    """A row named by its id among the tenant's rows that `rows()` returns, read inside the request's scope:
    another tenant's id, or one the rows leave out (an inactive staff member), is refused as unknown (`missing`:
    the message, e.g. "No customer with this id.")."""

    def __init__(self, rows, *, missing, **kwargs):
        self.rows = rows
        kwargs.setdefault("error_messages", {}).update(does_not_exist=missing)
        super().__init__(pk_field=serializers.IntegerField(min_value=1, max_value=MAX_ID), **kwargs)

    def get_queryset(self):
        return self.rows()


class Moment(serializers.DateTimeField):
    """An ISO 8601 moment within 1900–2100, as every form's date (crm.forms); without an offset, the company's
    time zone. Kept in UTC."""

    def to_internal_value(self, value):
        moment = super().to_internal_value(value)
        try:
            check_date_range(moment)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None
        return moment.astimezone(UTC)
