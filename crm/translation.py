"""Translations that must wait for the reader's language.

A module-level `_("… %(n)s …") % {...}` (or an f-string, `.format`, `+`) turns the lazy translation into
a plain string when the module is imported, in the default language, so the text stays English on
Chinese pages. tests/test_i18n_forms.py finds such code and fails on it."""

from __future__ import annotations

from django.utils.functional import lazy


def _interpolate(message, values) -> str:
    return str(message) % values


interpolate_lazy = lazy(_interpolate, str)
interpolate_lazy.__doc__ = """`interpolate_lazy(_("up to %(size)s MB"), {"size": 10})`: the lazy translation's
`%` interpolation, done each time the text is shown, in the language of that moment."""
