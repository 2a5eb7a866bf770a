from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accounts.backends import StaffBackend


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class StaffPasswordResetForm(PasswordResetForm):
    """Sends the reset e-mail in the recipient's own language, not the requester's, and only to
    those who may log in (active staff of an active tenant, or platform operators)."""

    def get_users(self, email):
        return (user for user in super().get_users(email) if StaffBackend().user_can_authenticate(user))

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email,
                  html_email_template_name=None):
        user = context["user"]
        staff = getattr(user, "staff", None)
        language = user.language or (staff.tenant.default_language if staff else settings.LANGUAGE_CODE)
        with translation.override(language):
            super().send_mail(subject_template_name, email_template_name, context, from_email, to_email,
                              html_email_template_name)
