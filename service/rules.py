"""Service rules: the tenant's calling hours. A rule module: it reads the models (and accounts/crm) only, never
services or selectors, so every layer may ask it."""

from __future__ import annotations

from datetime import datetime, timedelta

from crm.prepared import Prepared
from service.models import ServiceSettings

_SETTINGS = Prepared("service_settings", lambda tenant: ServiceSettings.objects.filter(tenant=tenant)[:1])


def service_settings(tenant) -> ServiceSettings:
    """The tenant's hours and teams (the defaults while none are saved)."""
    found = _SETTINGS.instances(tenant=tenant.pk)
    return found[0] if found else ServiceSettings(tenant=tenant)


def within_calling_hours(tenant, now: datetime | None = None, rules: ServiceSettings | None = None) -> bool:
    """Pass `rules` when they have been read already (a page asks several questions of them)."""
    return (rules or service_settings(tenant)).allows(tenant.local_time(now).time())


def first_calling_time(tenant, after: datetime, rules: ServiceSettings | None = None) -> datetime:
    """`after` when it is within the calling hours, else when they next begin (the default retry time)."""
    rules = rules or service_settings(tenant)
    moment = tenant.local_time(after)
    if rules.allows(moment.time()):
        return moment
    start = moment.replace(hour=rules.calls_from.hour, minute=rules.calls_from.minute, second=0, microsecond=0)
    return start if start > moment else start + timedelta(days=1)
