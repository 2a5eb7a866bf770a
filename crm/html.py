"""format_html_join without its per-value overhead, for long lists rendered in Python.

Django's format_html_join escapes each value through a lazy-aware wrapper (~7 µs a value); a
page with 50 rows and a 200-option select spends milliseconds there. `join_html` applies the same
rule — values already marked safe are kept, everything else is escaped with html.escape, as
django.utils.html.escape does — and marks only the assembled result safe."""

from __future__ import annotations

import html
from collections.abc import Iterable

from django.utils.safestring import SafeData, SafeString


def _escaped(value) -> str:
    if isinstance(value, SafeData):
        return str(value)
    return html.escape(str(value), quote=True)


def join_html(sep: str, fmt: str, rows: Iterable[tuple]) -> SafeString:
    """`sep` and `fmt` are trusted markup; every value in `rows` is escaped unless already safe."""
    return SafeString(sep.join(fmt.format(*map(_escaped, row)) for row in rows))
