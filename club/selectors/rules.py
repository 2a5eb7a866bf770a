"""The tenant's club rules as the member page reads them: the programme, its levels in rank order, each level's
benefits and yearly service quotas.

The programme row is read on every call; the levels, benefits and quotas only when its `rules_version` differs from
the one this process read them with. Saving or deleting a level, a benefit or a quota gives the programme a new
random version in the same transaction (club.receivers), so a change shows on the next page, and a rolled-back
change takes its version with it. Only the points services write; they read the levels themselves."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from club.models import Level, LevelBenefit, Programme, ServiceQuota
from club.selectors.access import programme_of


@dataclass(frozen=True)
class Rules:
    """Read-only: the levels, benefits and quotas are shared by every request of the process."""

    programme: Programme
    levels: tuple[Level, ...]  # rank order
    benefits: dict[int, tuple[LevelBenefit, ...]]  # level id → its benefits, in the order they were entered
    quotas: dict[int, dict[str, int]]  # level id → {service kind: times a year}


_held: dict[int, tuple] = {}  # tenant id → (rules version, levels, benefits, quotas) of this process


def _levels_of(tenant) -> tuple:
    levels = tuple(Level.objects.filter(tenant=tenant).order_by("rank"))
    benefits, quotas = defaultdict(list), defaultdict(dict)
    for benefit in LevelBenefit.objects.filter(tenant=tenant).order_by("id"):
        benefits[benefit.level_id].append(benefit)
    for level_id, kind, per_year in (ServiceQuota.objects.filter(tenant=tenant)
                                     .values_list("level_id", "kind", "per_year")):
        quotas[level_id][kind] = per_year
    return levels, {pk: tuple(rows) for pk, rows in benefits.items()}, dict(quotas)


def rules_of(tenant) -> Rules:
    """The programme as it is now, with its levels, benefits and quotas (read again when they changed)."""
    programme = programme_of(tenant)
    held = _held.get(tenant.pk)
    if held is None or held[0] != programme.rules_version:
        held = (programme.rules_version, *_levels_of(tenant))
        _held[tenant.pk] = held
    _version, levels, benefits, quotas = held
    return Rules(programme=programme, levels=levels, benefits=benefits, quotas=quotas)

