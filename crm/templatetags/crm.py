from django import forms, template
from django.utils import timezone

register = template.Library()


@register.filter
def bootstrap(bound_field):
    """Render a bound field's widget with Bootstrap classes, marked invalid when it has errors."""
    widget = bound_field.field.widget
    if isinstance(widget, (forms.CheckboxInput, forms.RadioSelect, forms.CheckboxSelectMultiple)):
        css = "form-check-input"
    elif isinstance(widget, forms.Select):
        css = "form-select"
    else:
        css = "form-control"
    if bound_field.errors:
        css += " is-invalid"
    existing = widget.attrs.get("class", "")
    return bound_field.as_widget(attrs={"class": f"{existing} {css}".strip()})


@register.filter
def top_errors(form) -> list:
    """The errors a form shows above its fields: its own, and its hidden fields' (which have no place of their
    own: a stale or forged one-time token, say)."""
    return [*form.non_field_errors(), *(error for field in form.hidden_fields() for error in field.errors)]


@register.filter
def datetime_input(value):
    """A moment as an `<input type="datetime-local">` value (the browser's fixed format, in the current time zone):
    what a form's DateTimeInput would show, for inputs a template writes by hand."""
    if not value:
        return ""
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


@register.simple_tag(takes_context=True)
def query_without(context, *drop, **replace):
    """The current query string without the `drop` keys and with `replace` set: the links of a list
    keep its filters, search and sort."""
    params = context["request"].GET.copy()
    for key in (*drop, *replace):
        params.pop(key, None)
    for key, value in replace.items():
        params[key] = value
    return params.urlencode()
