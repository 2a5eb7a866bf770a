"""The API's error bodies, for the schema: `{"detail": "…"}` (401, 403, 404, 429), and a 400's messages by
parameter or field (`{"tier": ["Select a valid choice. …"]}`)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
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


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


# the codes with which the services say the row has moved on (closed, marked meanwhile): not the input's fault
CONFLICTS = frozenset({"closed", "stale", "state"})


def refusal(error: DjangoValidationError, *, field: str | None = None) -> exceptions.APIException:
    """A service's refusal as the API answers it: a 409 with the service's message when the row is no longer in a
    state to take the write (its code in CONFLICTS: a retry cannot succeed, a fresh read tells why), else a 400
    by field — a message of no field under `field` when given."""
    if not hasattr(error, "error_dict"):
        codes = {getattr(one, "code", None) for one in error.error_list}
        if codes & CONFLICTS:
            return Conflict(" ".join(error.messages))
        if field is not None:
            return exceptions.ValidationError({field: error.messages})
    return exceptions.ValidationError(messages_by_field(error))
