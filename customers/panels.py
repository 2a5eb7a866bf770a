"""Panels of other apps on the customer page, without this app knowing about them.

An app above customers (the club, …) registers a `Panel` in its AppConfig.ready(): a template and a function
`context(request, customer)` that returns the template's context (seen there as `panel`) or None to show
nothing. The function is called once per page; keep it to one or two queries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    context: Callable[..., dict | None]  # context(request, customer) -> dict | None


@dataclass(frozen=True)
class Shown:
    name: str
    template: str
    context: dict


PANELS: dict[str, Panel] = {}


def register(panel: Panel) -> Panel:
    PANELS[panel.name] = panel
    return panel


def panels_for(request, customer) -> list[Shown]:
    """The registered panels that have something to show for this customer to this user, in registration order."""
    shown = []
    for panel in PANELS.values():
        context = panel.context(request, customer)
        if context is not None:
            shown.append(Shown(panel.name, panel.template, context))
    return shown
