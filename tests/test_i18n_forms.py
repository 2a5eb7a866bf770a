"""Every form and list filter of the project, rendered in Chinese, shows no English sentence; no text is
translated (or formatted) when a module is imported; the empty choice of every filter reads "Any".

How the rendering test tells a bug from a string the catalogue does not have yet:
- a form is built from its class-level fields (`base_fields`, a FilterSet's `base_filters`), without its
  `__init__` — that is the state made when the module is imported, where a frozen text lives;
- each English sentence on the rendered form is traced to the text it came from. A plain `str` is a bug:
  either it was never marked for translation, or a lazy translation was formatted (`%`, f-string, `.format`,
  `+`) or forced at import, in English — the message says which, by looking the text up in the catalogue.
  A lazy translation whose message is not in locale/zh_Hans yet is new and only waits for `make messages`
  (listed, not failed); one whose message is in the catalogue but still shows English fails.
The static test beside it reads the source for the same mistakes in code that is not a form (messages,
choices, constants)."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from html.parser import HTMLParser
from pathlib import Path

import django_filters
import pytest
from django import forms
from django.utils import translation
from django.utils.functional import Promise
from django_filters.conf import settings as filter_settings
from django_scopes import scope

ROOT = Path(__file__).resolve().parents[1]
APPS = ("crm", "accounts", "customers", "service", "club", "analytics")
SKIP_MODULES = (".migrations", ".management", ".demo", ".devstack", ".celery", ".wsgi", ".asgi")
# two lower-case English words in a row: a sentence, not a product name or an abbreviation (VIN, CSV, Excel)
ENGLISH = re.compile(r"\b[a-z]{2,}[ ,;:'’-]+[a-z]{2,}\b")


def _project_modules():
    for app in APPS:
        package = importlib.import_module(app)
        yield package
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{app}."):
            if not any(part in info.name for part in SKIP_MODULES):
                yield importlib.import_module(info.name)


def _subclasses(base):
    seen, stack = [], [base]
    while stack:
        for cls in stack.pop().__subclasses__():
            stack.append(cls)
            if cls.__module__.split(".")[0] in APPS and cls not in seen and not cls.__name__.startswith("_"):
                seen.append(cls)
    return sorted(seen, key=lambda c: f"{c.__module__}.{c.__qualname__}")


list(_project_modules())
FORMS = [c for c in _subclasses(forms.BaseForm)
         if not getattr(getattr(c, "Meta", None), "abstract", False)
         and (not issubclass(c, forms.BaseModelForm) or getattr(getattr(c, "_meta", None), "model", None))]
FILTERSETS = _subclasses(django_filters.FilterSet)


# --- where a text comes from ------------------------------------------------------------------------


def _msgids(text) -> list[tuple[str | None, str]]:
    """The (context, message) pairs behind a lazy translation, through lazy wrappers (capfirst, interpolation)."""
    if not isinstance(text, Promise):
        return []
    func, args, kwargs = text.__reduce__()[1][:3]
    name = getattr(func, "__name__", "")
    if name in ("gettext", "ngettext") and args and isinstance(args[0], str):
        return [(None, args[0])]
    if name in ("pgettext", "npgettext") and len(args) > 1:
        return [(args[0], args[1])]
    return [pair for arg in (*args, *kwargs.values()) for pair in _msgids(arg)]


def _in_catalogue(context: str | None, message: str) -> bool:
    with translation.override("zh-hans"):
        shown = translation.pgettext(context, message) if context else translation.gettext(message)
    return shown != message


class Source:
    """A text as the code holds it, and what it shows in Chinese."""

    def __init__(self, text):
        self.text = text
        with translation.override("zh-hans"):
            self.shown = str(text)

    def verdict(self) -> str | None:
        """None if the English on it is allowed for now (new, waiting for its translation), else why not."""
        if isinstance(self.text, Promise):
            missing = [m for c, m in _msgids(self.text) if not _in_catalogue(c, m)]
            if missing:
                return None
            return "translated lazily but shown in English: check the catalogue entry"
        if _in_catalogue(None, self.text):
            return "translated when the module was imported (in English): use gettext_lazy, no formatting at import"
        return "not marked for translation, or a lazy translation formatted at import: use gettext_lazy " \
               "(crm.translation.interpolate_lazy for %-formatting)"


def _field_sources(field) -> list[Source]:
    texts = [field.label, field.help_text, getattr(field, "empty_label", None),
             field.widget.attrs.get("placeholder"), field.widget.attrs.get("title"),
             *field.error_messages.values()]
    if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
        for _value, label in field.choices:
            texts.extend(inner for _key, inner in label) if isinstance(label, (list, tuple)) else texts.append(label)
    return [Source(t) for t in texts if t]


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)


def _page_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def _bare_form(cls):
    """The form as its class declares it (fields made at import), without the instance's own __init__."""
    form = cls.__new__(cls)
    (forms.BaseModelForm if issubclass(cls, forms.BaseModelForm) else forms.BaseForm).__init__(form)
    for field in form.fields.values():
        if isinstance(field, forms.ModelChoiceField):
            field.queryset = field.queryset.none()  # the rows are data (permission names…), not the form's text
    return form


def _check(rendered: str, sources: list[Source]) -> tuple[list[str], list[str]]:
    problems, pending = [], []
    for sentence in {m.group(0) for m in ENGLISH.finditer(rendered)}:
        origins = [s for s in sources if sentence in s.shown]
        if not origins:
            problems.append(f"{sentence!r}: from the form's template or widget, not from a field")
            continue
        verdicts = [s.verdict() for s in origins]
        if all(v is None for v in verdicts):
            pending.append(origins[0].shown)
        else:
            problems.extend(f"{origin.shown!r}: {v}" for origin, v in zip(origins, verdicts, strict=True) if v)
    return problems, pending


def _render_in_chinese(cls) -> tuple[str, list[Source]]:
    with translation.override("zh-hans"):
        form = _bare_form(cls)
        sources = [s for field in form.fields.values() for s in _field_sources(field)]
        return _page_text(form.as_div()), sources


@pytest.mark.parametrize("form_class", FORMS, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_every_form_renders_in_chinese_without_english_sentences(form_class, demo):
    with scope(tenant=demo):
        rendered, sources = _render_in_chinese(form_class)
    problems, pending = _check(rendered, sources)
    assert not problems, "\n".join(problems)
    if pending:
        print(f"waiting for their translation (make messages): {pending}")


def _filter_sources(filterset) -> list[Source]:
    texts = []
    for flt in filterset.base_filters.values():
        texts += [flt.label, flt.extra.get("help_text"), _empty_label(flt)]
        choices = flt.extra.get("choices")
        if isinstance(choices, (list, tuple)):
            texts += [label for _value, label in choices]
    return [Source(t) for t in texts if t]


def _empty_label(flt):
    if not isinstance(flt, django_filters.ChoiceFilter):
        return None
    return flt.extra.get("empty_label", filter_settings.EMPTY_CHOICE_LABEL)


@pytest.mark.parametrize("filterset", FILTERSETS, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_every_list_filter_reads_chinese_and_its_empty_choice_says_any(filterset):
    sources = _filter_sources(filterset)
    rendered = " ".join(s.shown for s in sources)
    problems, pending = _check(rendered, sources)
    assert not problems, "\n".join(problems)
    for name, flt in filterset.base_filters.items():
        label = _empty_label(flt)
        if label is None:
            continue
        assert str(label) == "Any", f"{name}: the empty choice reads {label!r}"
        with translation.override("zh-hans"):
            assert str(label) == translation.gettext("Any"), name


def test_a_form_frozen_at_import_is_caught(demo):
    """The test above fails on the mistake it is there for (a help text formatted at import)."""
    from django.utils.translation import gettext_lazy as _

    class Frozen(forms.Form):
        name = forms.CharField(label=_("Name"), help_text=_("Choose a date between %(first)s and %(last)s.")
                               % {"first": 1900, "last": 2999})
        other = forms.CharField(label="Family name first")

    with scope(tenant=demo):
        rendered, sources = _render_in_chinese(Frozen)
    problems, _pending = _check(rendered, sources)
    assert any("translated when the module was imported" in p or "formatted at import" in p for p in problems)
    assert any("Family name first" in p and "not marked" in p for p in problems)


# --- the source: nothing translated or formatted at import ---------------------------------------------

EAGER = {"gettext", "pgettext", "ngettext", "npgettext"}
TRANSLATING = EAGER | {"gettext_lazy", "pgettext_lazy", "ngettext_lazy", "npgettext_lazy"}
FORCING_METHODS = {"format", "join", "upper", "lower", "capitalize", "strip", "title", "replace"}


def _import_time_translations(path: Path) -> list[str]:
    """Code run at import (module and class bodies, default arguments, decorators) that translates in the
    language of the import or turns a lazy translation into a str."""
    tree = ast.parse(path.read_text())
    aliases = {a.asname or a.name: a.name for node in ast.walk(tree)
               if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation"
               for a in node.names if a.name in TRANSLATING}

    def translation_call(node) -> str | None:
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                return aliases.get(func.id)
            if isinstance(func, ast.Attribute) and func.attr in TRANSLATING and \
                    isinstance(func.value, ast.Name) and func.value.id == "translation":
                return func.attr
        return None

    def holds_translation(node) -> bool:
        return any(translation_call(n) for n in ast.walk(node))

    found = []

    def visit(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for part in (*node.decorator_list, *node.args.defaults, *filter(None, node.args.kw_defaults)):
                visit(part)
            return
        if isinstance(node, ast.Lambda):
            return
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
        if translation_call(node) in EAGER:
            found.append(f"{where}: {translation_call(node)}() at import translates into the default language")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)) and (
                translation_call(node.left) or translation_call(node.right)):
            found.append(f"{where}: a translation formatted at import")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr in FORCING_METHODS and (translation_call(node.func.value)
                                                       or any(holds_translation(a) for a in node.args)):
            found.append(f"{where}: .{node.func.attr}() on a translation at import")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str" and \
                any(translation_call(a) for a in node.args):
            found.append(f"{where}: str() of a translation at import")
        elif isinstance(node, ast.JoinedStr) and holds_translation(node):
            found.append(f"{where}: a translation in an f-string at import")
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def test_no_module_translates_or_formats_a_translation_at_import():
    found = [problem for app in APPS for path in sorted((ROOT / app).rglob("*.py"))
             if "migrations" not in path.parts for problem in _import_time_translations(path)]
    assert not found, "\n".join(found)


def test_the_source_check_finds_the_mistakes(tmp_path, monkeypatch):
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    module = tmp_path / "frozen.py"
    module.write_text(
        "from django.utils.translation import gettext as _, gettext_lazy\n"
        "MAX = 5\n"
        "DONE = {'note': _('Note added.')}\n"
        "HELP = gettext_lazy('up to %(n)s rows') % {'n': MAX}\n"
        "TITLE = f\"{gettext_lazy('Report')} {MAX}\"\n"
        "class Form:\n"
        "    label = gettext_lazy('Name') + ':'\n"
        "def later():\n"
        "    return _('fine at run time') % {}\n")
    found = _import_time_translations(module)
    assert [line.split(":")[1] for line in found] == ["3", "4", "5", "7"]
