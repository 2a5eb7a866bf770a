"""Form helpers shared by every app."""

from django.core.exceptions import ValidationError


def apply_errors(form, error: ValidationError) -> None:
    """Put a service's errors next to the fields they name, the rest at the top of the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for name, messages in error.message_dict.items():
        form.add_error(name if name in form.fields else None, messages)
