"""How the API's read endpoints name the rows a record points at: a customer by id and name (a name stays
readable for a read-only credential, as for a data analyst on the pages), a staff member by id and name, a
department by id and name. The views select_related what these read, so a list costs the same for any length."""

from __future__ import annotations

from rest_framework import serializers


class StaffRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="user.display_name", read_only=True)


class CustomerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class NamedRefSerializer(serializers.Serializer):
    """A department, a plan, a survey, a category, a club level: id and name."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


def staff(source: str | None = None) -> StaffRefSerializer:
    """A staff member who may be missing (left, or never set): null then."""
    return StaffRefSerializer(source=source, read_only=True, allow_null=True)


def named(source: str | None = None) -> NamedRefSerializer:
    return NamedRefSerializer(source=source, read_only=True, allow_null=True)


def customer(source: str | None = None) -> CustomerRefSerializer:
    return CustomerRefSerializer(source=source, read_only=True)
