"""Strings of Django's own admin and auth that Django 5.2's zh_Hans catalogue lacks.

Marked here so that `make messages` keeps them in locale/zh_Hans/LC_MESSAGES/django.po, whose
translations take precedence over Django's. The admin's JavaScript strings are translated in
locale/zh_Hans/LC_MESSAGES/djangojs.po. Drop entries once Django ships them."""

from django.utils.translation import gettext_noop, ngettext_lazy

ADMIN = [
    gettext_noop("Add link"),
    gettext_noop("After you’ve created a user, you’ll be able to edit more user options."),
    gettext_noop("Change or view list link"),
    gettext_noop("Error:"),
    gettext_noop("Forgotten your login credentials?"),
    gettext_noop("In case you’ve forgotten, you are:"),
    gettext_noop("Model name"),
]
PASSWORD_TOO_SHORT = ngettext_lazy(
    "This password is too short. It must contain at least %d character.",
    "This password is too short. It must contain at least %d characters.",
    "min_length",
)
