"""Texts that a tenant writes once per language (a questionnaire's title, its questions and their options).

The model's own field holds the text in the company's language; a JSON field `translations` holds the others as
``{"en": {"text": "…", "choices": "…"}}``. A page in another language reads `translated(obj, "text", language)`,
which falls back to the company's text when no translation was written. The administration edits them through
`translation_form`: one field per language and text, next to the company's one."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _


def translations_field() -> models.JSONField:
    return models.JSONField(_("translations"), default=dict, blank=True,
                            help_text=_("The texts in other languages; empty: the company's text."))


def translated(obj, attr: str, language: str | None) -> str:
    """`obj.attr` in `language` when a translation was written, else in the company's language."""
    text = ((getattr(obj, "translations", None) or {}).get(language or "") or {}).get(attr)
    return text if isinstance(text, str) and text.strip() else getattr(obj, attr)


def field_name(attr: str, language: str) -> str:
    return f"{attr}_{language.replace('-', '_')}"


def translation_field_names(attrs: tuple[str, ...]) -> tuple[str, ...]:
    """The form's field names, language by language (for an admin's `fields`)."""
    return tuple(field_name(attr, code) for code, _name in settings.LANGUAGES for attr in attrs)


class TranslationForm(forms.ModelForm):
    """A model form with one field per language for each of `translated_attrs`, stored in `translations`."""

    translated_attrs: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = self.instance.translations or {}
        for code, _name in settings.LANGUAGES:
            for attr in self.translated_attrs:
                name = field_name(attr, code)
                if name in self.fields:
                    self.fields[name].initial = (stored.get(code) or {}).get(attr, "")

    def clean(self):
        data = super().clean()
        translations = {}
        for code, _name in settings.LANGUAGES:
            texts = {attr: (data.get(field_name(attr, code)) or "").strip() for attr in self.translated_attrs
                     if field_name(attr, code) in self.fields}
            texts = {attr: text for attr, text in texts.items() if text}
            if texts:
                translations[code] = texts
        self.instance.translations = translations
        return data


def translation_form(model: type[models.Model], attrs: tuple[str, ...], base=TranslationForm):
    """A TranslationForm class for `model`: for each language, a field like the model's own for each attr
    (same length and widget), labelled with the language, optional."""
    declared = {}
    for code, name in settings.LANGUAGES:
        for attr in attrs:
            model_field = model._meta.get_field(attr)
            field = model_field.formfield(required=False)
            field.label = format_lazy("{} ({})", model_field.verbose_name, name)
            field.help_text = ""
            declared[field_name(attr, code)] = field
    meta = type("Meta", (), {"model": model, "fields": list(attrs)})  # the admin names the rest
    return type(f"{model.__name__}TranslationForm", (base,),
                {**declared, "Meta": meta, "translated_attrs": tuple(attrs), "__module__": __name__})
