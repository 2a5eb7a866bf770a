"""Form helpers shared by every app."""

import secrets
from datetime import date
from functools import wraps

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.forms.renderers import TemplatesSetting
from django.utils.translation import gettext_lazy as _


class FormRenderer(TemplatesSetting):
    """settings.FORM_RENDERER: forms render through the project's template engine (templates/ and the
    `crm` tags), and `{{ form.field.as_field_group }}` is the one Bootstrap field: label, widget (marked
    invalid), errors, help text. The page around it places it (`<div class="mb-3">`, a grid column)."""

    field_template_name = "partials/_field.html"


def new_once() -> str:
    return secrets.token_urlsafe(16)


class OnceField(forms.CharField):
    """A hidden one-time token the form is rendered with. The service records it with what the form writes, in
    the same transaction, so the same form sent twice (a double click, a resent POST) writes once; a form refused
    with errors keeps its token, and sending it again after the corrections writes then."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(required=False, max_length=43, initial=new_once, validators=[RegexValidator(
            r"^[A-Za-z0-9_-]{16,43}$", _("The form is out of date: open it again."))], **kwargs)


def apply_errors(form, error: ValidationError) -> None:
    """Put a service's errors next to the fields they name, the rest at the top of the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for name, messages in error.message_dict.items():
        form.add_error(name if name in form.fields else None, messages)


# --- dates a person can mean ---------------------------------------------------------------------

EARLIEST_YEAR, LATEST_YEAR = 1900, 2100


def check_date_range(value) -> None:
    """Refuse a date or date-time outside 1900–2100: nobody means one, and one day more or less from
    9999-12-31 or 0001-01-01 overflows Python's dates (a 500 on every page that steps a day)."""
    if value is not None and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValidationError(
            _("Enter a date between %(earliest)s and %(latest)s."), code="date_out_of_range",
            params={"earliest": EARLIEST_YEAR, "latest": LATEST_YEAR},
        )


def _within_range(to_python):
    @wraps(to_python)
    def checked(self, value):
        result = to_python(self, value)
        check_date_range(result)
        return result

    checked.crm_date_range = True
    return checked


def install_date_range() -> None:
    """Every date and date-time form field of the project — forms, django-filter filters, the admin's
    (its split date-time field cleans a date field), fields made before this runs — refuses dates
    outside EARLIEST_YEAR–LATEST_YEAR, so none is ever stored or used to step a calendar. Called once
    from CrmConfig.ready()."""
    for field_class in (forms.DateField, forms.DateTimeField):
        if not getattr(field_class.to_python, "crm_date_range", False):
            field_class.to_python = _within_range(field_class.to_python)


def parse_date_param(value) -> date | None:
    """A date given in a query parameter (`?day=2026-05-01`), checked like a form's; None when it is
    missing. Raises ValidationError (with the message to show) for a value that is not a sane date."""
    if value in (None, ""):
        return None
    return forms.DateField(input_formats=["%Y-%m-%d"]).clean(str(value)[:20])


MAX_ID = 2**63 - 1  # the largest primary key PostgreSQL's bigint holds


def parse_id(value, *, high: int = MAX_ID) -> int | None:
    """A positive whole number a user typed or a page sent back (`?customer=12`, a form's hidden id, a
    token's part): ASCII digits only, 1..`high`; None for anything else. `str.isdigit()` alone is not enough:
    "²" and "١" pass it, and int("²") raises (a 500)."""
    text = value.strip() if isinstance(value, str) else str(value) if isinstance(value, int) else ""
    if not text or len(text) > 19 or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number <= high else None
