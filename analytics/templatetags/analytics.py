from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def percent(value, digits: int = 1) -> str:
    """0.8765 → "87.7%" (localized decimal separator); nothing to divide by → "—"."""
    if value is None:
        return "—"
    return f"{number_format(round(value * 100, int(digits)), int(digits))}%"


@register.filter
def score(value, digits: int = 1) -> str:
    """A CSI or NPS: 87.654 → "87.7"; none → "—"."""
    if value is None:
        return "—"
    return number_format(round(value, int(digits)), int(digits))
