"""The API's error bodies, for the schema: `{"detail": "…"}` (401, 403, 404, 429), and a 400's messages by
parameter or field (`{"tier": ["Select a valid choice. …"]}`)."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


Error = OpenApiResponse(ErrorSerializer, description="Refused: the reason in `detail`.")
FieldErrors = OpenApiResponse(
    {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    description="Bad parameters or fields: their messages by name.")
