"""The customer timeline: every app adds its own entries without this app knowing about it.

An app registers a provider — `timeline.register(provider)` in its AppConfig.ready() — that returns
the newest entries of one customer with one query. The page asks every provider for at most
`limit` entries, merges and cuts, so the page runs one query per provider however many entries
there are."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time

from django.utils import timezone
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Entry:
    when: datetime | date
    kind: str  # css hook and icon: "purchase", "visit", "note", "vehicle", "call", …
    title: str
    detail: str = ""
    who: str = ""

    @property
    def sort_key(self) -> datetime:
        if isinstance(self.when, datetime):
            return self.when
        return timezone.make_aware(datetime.combine(self.when, time.max))


Provider = Callable[..., Iterable[Entry]]  # provider(customer, *, limit) -> entries, newest first
PROVIDERS: list[Provider] = []


def register(provider: Provider) -> Provider:
    if provider not in PROVIDERS:
        PROVIDERS.append(provider)
    return provider


def timeline_for(customer, *, limit: int = 50) -> list[Entry]:
    entries = [entry for provider in PROVIDERS for entry in provider(customer, limit=limit)]
    entries.sort(key=lambda e: e.sort_key, reverse=True)
    return entries[:limit]


# --- this app's own entries ---------------------------------------------------------------------


def _who(staff) -> str:
    return staff.user.display_name if staff is not None else ""


@register
def purchases(customer, *, limit):
    for p in customer.purchases.select_related("vehicle", "consultant__user").order_by("-contract_on")[:limit]:
        vehicle = f" · {p.vehicle.model_name}" if p.vehicle else ""
        yield Entry(p.contract_on, "purchase", _("Purchase") + vehicle, f"¥{p.amount:,.0f}", _who(p.consultant))


@register
def visits(customer, *, limit):
    for v in customer.visits.select_related("vehicle", "advisor__user").order_by("-opened_on")[:limit]:
        detail = " · ".join(x for x in (v.vehicle.model_name if v.vehicle else "",
                                        f"{v.mileage_km:,} km" if v.mileage_km else "", f"¥{v.amount:,.0f}") if x)
        yield Entry(v.opened_on, "visit", v.get_visit_type_display(), detail, _who(v.advisor))


@register
def vehicles(customer, *, limit):
    for vehicle in customer.vehicles.order_by("-created_at")[:limit]:
        yield Entry(vehicle.created_at, "vehicle", _("Vehicle registered") + f" · {vehicle.model_name}",
                    " ".join(x for x in (vehicle.plate, vehicle.vin) if x))


@register
def notes(customer, *, limit):
    for note in customer.notes.select_related("author__user").order_by("-created_at")[:limit]:
        yield Entry(note.created_at, "note", _("Note"), note.body, _who(note.author))
