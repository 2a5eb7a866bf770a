"""Writes of the targets (绩效考核): set, change and remove a target. A director sets targets for everyone, a
manager for the people and positions of their department subtree (analytics.selectors.targets.target_scope);
anything else is refused with a message next to the field it names. Each call is one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import Position, Staff, Tenant
from analytics.metrics import COUNT, TARGET_METRICS
from analytics.models import PeriodKind, Target
from analytics.selectors.targets import period_for, target_scope
from crm.tenancy import require_same_tenant

RATE_MAX = Decimal(100)  # a rate target is a percentage, a score is on 0–100


@dataclass(frozen=True)
class TargetData:
    metric: str
    value: Decimal
    period_kind: str
    period_start: date | None  # any day of the period; None: every period of the kind
    position: Position | None = None
    staff: Staff | None = None


def _checked(user, tenant: Tenant, data: TargetData) -> dict:
    """The target's fields from the data, or a ValidationError naming the field that is wrong."""
    errors = {}
    metric = TARGET_METRICS.get(data.metric)
    if metric is None:
        errors["metric"] = _("Choose a metric.")
    if (data.position is None) == (data.staff is None):
        errors["staff"] = _("Choose either a position or a person, not both.")
    else:
        require_same_tenant(tenant, data.position, data.staff)
        if not target_scope(user).allows(position=data.position, staff=data.staff):
            field = "position" if data.position is not None else "staff"
            errors[field] = _("You may set targets only for the people and positions of your departments.")
    if data.value is None or data.value < 0:
        errors["value"] = _("Enter a target of zero or more.")
    elif metric is not None and metric.unit != COUNT and data.value > RATE_MAX:
        errors["value"] = _("A rate is a percentage and a score is out of 100: enter at most 100.")
    elif metric is not None and metric.unit == COUNT and data.value != data.value.to_integral_value():
        errors["value"] = _("Enter a whole number.")
    if data.period_kind not in PeriodKind.values:
        errors["period_kind"] = _("Choose a month or a week.")
    if errors:
        raise ValidationError(errors)
    start = period_for(data.period_kind, data.period_start).start if data.period_start else None
    return {"metric": data.metric, "value": data.value, "period_kind": data.period_kind, "period_start": start,
            "position": data.position, "staff": data.staff}


def _save(target: Target) -> Target:
    exists = Target.objects.filter(metric=target.metric, period_kind=target.period_kind,
                                   period_start=target.period_start, position=target.position,
                                   staff=target.staff).exclude(pk=target.pk).exists()
    if exists:
        raise ValidationError({"metric": _("This target is set already: edit it instead.")})
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError as error:  # the same target set at the same moment by someone else
        raise ValidationError({"metric": _("This target is set already: edit it instead.")}) from error
    return target


@transaction.atomic
def target_create(*, user, tenant: Tenant, staff: Staff | None, data: TargetData) -> Target:
    fields = _checked(user, tenant, data)
    return _save(Target(tenant=tenant, created_by=staff, **fields))


@transaction.atomic
def target_update(*, user, tenant: Tenant, target: Target, data: TargetData) -> Target:
    if not target_scope(user).allows_target(target):
        raise ValidationError(_("You may change targets only for the people and positions of your departments."))
    for name, value in _checked(user, tenant, data).items():
        setattr(target, name, value)
    return _save(target)


@transaction.atomic
def target_delete(*, user, target: Target) -> None:
    if not target_scope(user).allows_target(target):
        raise ValidationError(_("You may remove targets only for the people and positions of your departments."))
    target.delete()
