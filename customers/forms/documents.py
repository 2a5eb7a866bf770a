"""Upload of a scanned document; the service checks the file's content and size."""

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from customers.models import CustomerDocument


def _file_help() -> str:
    return _("PDF, JPEG or PNG, at most %(limit)s.") % {"limit": filesizeformat(settings.CUSTOMER_DOCUMENT_MAX_BYTES)}


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=CustomerDocument.Kind.choices)
    title = forms.CharField(label=_("Title"), max_length=200, required=False,
                            help_text=_("Empty: the file's name."))
    file = forms.FileField(label=_("File"), help_text=lazy(_file_help, str)(),
                           widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}))
