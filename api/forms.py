"""The tenant administrator's credential form: one choice per resource of the API (no access, read, read and
write) instead of the `scopes` JSON it is stored as."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from api.models import ApiCredential
from api.scopes import LEVELS, RESOURCES

NONE = ""
SCOPE_PREFIX = "scope_"


def scope_field(resource: str) -> str:
    return f"{SCOPE_PREFIX}{resource}"


SCOPE_FIELDS = [scope_field(resource) for resource in RESOURCES]


class ApiCredentialForm(forms.ModelForm):
    class Meta:
        model = ApiCredential
        fields = ["name", "read_only", "expires_at", "allowed_networks"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance.scopes or {} if self.instance.pk else {}
        for resource, label in RESOURCES.items():
            self.fields[scope_field(resource)] = forms.ChoiceField(
                label=label, required=False, choices=[(NONE, _("No access")), *LEVELS.items()],
                initial=current.get(resource, NONE))

    def clean(self):
        cleaned = super().clean()
        self.instance.scopes = {resource: cleaned[scope_field(resource)] for resource in RESOURCES
                                if cleaned.get(scope_field(resource))}
        return cleaned

    def _post_clean(self):
        super()._post_clean()  # the model's clean() checks the scopes against read-only; its error shows here
        if "scopes" in self._errors:
            self.add_error(None, self._errors.pop("scopes"))
