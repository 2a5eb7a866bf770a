"""The API's error bodies, for the schema: `{"detail": "…"}` (401, 403, 404, 429), and a 400's messages by
parameter or field (`{"tier": ["Select a valid choice. …"]}`)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.settings import api_settings


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


Error = OpenApiResponse(ErrorSerializer, description="Refused: the reason in `detail`.")
FieldErrors = OpenApiResponse(
    {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    description="Bad parameters or fields: their messages by name.")


def messages_by_field(error: DjangoValidationError) -> dict:
    """A service's ValidationError as the API reports it: messages by field, its general ones under
    `non_field_errors`."""
    if not hasattr(error, "error_dict"):
        return {api_settings.NON_FIELD_ERRORS_KEY: error.messages}
    return {api_settings.NON_FIELD_ERRORS_KEY if name == "__all__" else name: messages
            for name, messages in error.message_dict.items()}
