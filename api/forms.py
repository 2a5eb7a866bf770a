"""The tenant administrator's credential form: one choice per resource of the API (no access, read, read and
write) instead of the `scopes` JSON it is stored as."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.translation import gettext_lazy as _

from api.models import ApiCredential
from api.scopes import LEVELS, RESOURCES

NONE = ""
SCOPE_PREFIX = "scope_"


def scope_field(resource: str) -> str:
    return f"{SCOPE_PREFIX}{resource}"


SCOPE_FIELDS = [scope_field(resource) for resource in RESOURCES]


class _CredentialForm(forms.ModelForm):
    class Meta:
        model = ApiCredential
        fields = ["name", "read_only", "expires_at", "allowed_networks"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = (self.instance.scopes or {}) if self.instance.pk else {}
        for resource in RESOURCES:
            self.fields[scope_field(resource)].initial = current.get(resource, NONE)

    def clean(self):
        cleaned = super().clean()
        self.instance.scopes = {resource: cleaned[scope_field(resource)] for resource in RESOURCES
                                if cleaned.get(scope_field(resource))}
        return cleaned

    def _update_errors(self, errors):
        # the model's clean() checks the scopes against read-only: its error goes to the top of the form
        if hasattr(errors, "error_dict") and "scopes" in errors.error_dict:
            errors.error_dict[NON_FIELD_ERRORS] = [*errors.error_dict.get(NON_FIELD_ERRORS, []),
                                                   *errors.error_dict.pop("scopes")]
        super()._update_errors(errors)


# the admin wants a form's fields declared on its class: one choice per resource, made from the catalogue
ApiCredentialForm = type("ApiCredentialForm", (_CredentialForm,), {
    "__module__": __name__,
    **{scope_field(resource): forms.ChoiceField(label=label, required=False,
                                                choices=[(NONE, _("No access")), *LEVELS.items()])
       for resource, label in RESOURCES.items()},
})
