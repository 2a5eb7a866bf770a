"""A tombstone as the API shows it (api.models.Tombstone)."""

from rest_framework import serializers

from api.models import Tombstone
from api.serializers.fast import FastModelSerializer


class DeletionSerializer(FastModelSerializer):
    id = serializers.IntegerField(source="object_id", help_text="The ID the row had.")
    replaced_by = serializers.IntegerField(
        allow_null=True, help_text="A customer merged into another: the ID of the customer who holds their history.")
    deleted_at = serializers.DateTimeField(source="created_at")

    class Meta:
        model = Tombstone
        fields = ["resource", "kind", "id", "replaced_by", "deleted_at", "updated_at"]
        read_only_fields = fields
