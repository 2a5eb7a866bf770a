"""Points earned automatically from a purchase or a service visit recorded in the customer archive.

The active point rules of the source (for visits: of the visit's type, or of every type) apply: the standing
rules (no dates) and, on top of them, the bonus campaigns whose dates include the purchase's contract date or
the visit's work-order date. Per rule: ``amount × points per yuan × the member level's earning multiplier ×
the programme's birthday multiplier`` (in the customer's birthday month), rounded down, then at most the rule's
cap per earning and what is left of its cap per member in the month or year (counted from the journal: the
points the member earned from the same kind of source — purchases or visits — in that period, net of
reversals; with several capped rules of one source they share that count).

Qualifying points are the base points (amount × points per yuan, within the rule's cap per earning) of the
rules that count towards levels: the level and birthday multipliers are bonuses, they do not raise levels. The
spend (the amount) is recorded on every earning, for programmes that measure levels by spend.

A source earns once (key "purchase:<id>" / "visit:<id>"); a cancelled one earns nothing, and a cancellation
after the earning reverses it (club.services.points.points_reverse_source)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import translation
from django.utils.translation import gettext as _

from club.models import Member, PointEntry, PointRule
from club.selectors.access import programme_of
from club.services.points import points_earn, points_reverse_source


@dataclass(frozen=True)
class Earning:
    points: int
    qualifying: int
    spend: Decimal


def _period(rule: PointRule, day: date) -> tuple[date, date]:
    if rule.cap_period == PointRule.Period.MONTH:
        start = day.replace(day=1)
        end = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    else:
        start, end = date(day.year, 1, 1), date(day.year + 1, 1, 1)
    return start, end


def _earned_in(member: Member, source: str, start: date, end: date) -> int:
    """Points the member earned from `source` in [start, end) of the tenant's clock, net of reversals."""
    tenant = member.tenant
    lo, hi = tenant.day_bounds(start)[0], tenant.day_bounds(end)[0]
    earned = (PointEntry.objects.filter(member=member, source=source, occurred_at__gte=lo, occurred_at__lt=hi)
              .filter(Q(kind=PointEntry.Kind.EARN) | Q(kind=PointEntry.Kind.REVERSE, reverses__kind="earn"))
              .aggregate(total=Sum("points"))["total"])
    return max(earned or 0, 0)


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def earning_compute(*, member: Member, source: str, amount: Decimal, day: date, visit_type: str = "",
                    today: date | None = None) -> Earning:
    """What a purchase or visit of `amount` on `day` earns the member under the active rules."""
    amount = Decimal(amount)
    programme = programme_of(member.tenant)
    rules = PointRule.objects.filter(tenant=member.tenant, source=source, active=True)
    rules = rules.filter(Q(starts_on__isnull=True) | Q(starts_on__lte=day),
                         Q(ends_on__isnull=True) | Q(ends_on__gte=day))
    if source == PointRule.Source.VISIT:
        rules = rules.filter(Q(visit_type="") | Q(visit_type=visit_type))
    multiplier = member.level.earn_multiplier
    birthday = member.customer.birthday
    if birthday is not None and birthday.month == day.month:
        multiplier *= programme.birthday_multiplier
    today = today or member.tenant.today()
    points = qualifying = 0
    for rule in rules.order_by("id"):
        base = _floor(amount * rule.points_per_yuan)
        earned = _floor(amount * rule.points_per_yuan * multiplier)
        if rule.cap_per_earning is not None:
            base, earned = min(base, rule.cap_per_earning), min(earned, rule.cap_per_earning)
        if rule.cap_per_member is not None:
            start, end = _period(rule, today)
            left = max(rule.cap_per_member - _earned_in(member, source, start, end) - points, 0)
            earned = min(earned, left)
            base = min(base, earned)
        points += earned
        if rule.qualifying:
            qualifying += base
    return Earning(points=points, qualifying=qualifying, spend=amount)


def _earn(member: Member, *, source: str, source_id: int, amount, day: date, visit_type: str, reason: str,
          actor: str) -> PointEntry | None:
    earning = earning_compute(member=member, source=source, amount=amount, day=day, visit_type=visit_type)
    if not (earning.points or earning.qualifying or earning.spend):
        return None
    return points_earn(member=member, points=earning.points, qualifying=earning.qualifying, spend=earning.spend,
                       source=source, source_id=source_id, key=f"{source}:{source_id}", reason=reason, actor=actor)


def _member_of(customer) -> Member | None:
    """The customer's active membership, its row locked: the per-member caps are counted and the points written
    under one lock, so two earnings at once cannot both fill the same cap."""
    return (Member.objects.select_for_update(of=("self",)).select_related("level", "customer")
            .filter(customer=customer, status=Member.Status.ACTIVE).first())


def _locked_source(model, pk: int):
    """The purchase or visit row, locked and read again: a cancellation either committed before (then it is seen
    here and nothing is earned) or waits for this earning to commit (then its reversal finds the earning)."""
    return model.objects.select_for_update().select_related("customer").filter(pk=pk).first()


@transaction.atomic
def purchase_earn(*, purchase) -> PointEntry | None:
    """The points of a recorded purchase, once (None: not a member, cancelled, already earned, nothing to earn)."""
    purchase = _locked_source(type(purchase), purchase.pk)
    if purchase is None or purchase.cancelled_at is not None:
        return None
    member = _member_of(purchase.customer)
    if member is None:
        return None
    if PointEntry.objects.filter(tenant=purchase.tenant, key=f"purchase:{purchase.pk}").exists():
        return None
    with translation.override(purchase.tenant.default_language):
        reason = _("Purchase of %(date)s, ¥%(amount)s") % {"date": purchase.contract_on, "amount": purchase.amount}
        actor = _("purchase earning")
    return _earn(member, source=PointEntry.Source.PURCHASE, source_id=purchase.pk, amount=purchase.amount,
                 day=purchase.contract_on, visit_type="", reason=reason, actor=actor)


@transaction.atomic
def visit_earn(*, visit) -> PointEntry | None:
    """The points of a recorded service visit, once (None as for purchase_earn)."""
    visit = _locked_source(type(visit), visit.pk)
    if visit is None or visit.cancelled_at is not None:
        return None
    member = _member_of(visit.customer)
    if member is None:
        return None
    if PointEntry.objects.filter(tenant=visit.tenant, key=f"visit:{visit.pk}").exists():
        return None
    with translation.override(visit.tenant.default_language):
        reason = _("Service visit of %(date)s (%(type)s), ¥%(amount)s") % {
            "date": visit.opened_on, "type": visit.get_visit_type_display(), "amount": visit.amount}
        actor = _("service visit earning")
    return _earn(member, source=PointEntry.Source.VISIT, source_id=visit.pk, amount=visit.amount,
                 day=visit.opened_on, visit_type=visit.visit_type, reason=reason, actor=actor)


def source_reverse(*, tenant, source: str, source_id: int) -> list[PointEntry]:
    """Reverse what a cancelled or refunded purchase or visit earned (once), or the referral points of a referred
    sale that was (source "referral", source_id the lead)."""
    with translation.override(tenant.default_language):
        reason = {PointEntry.Source.PURCHASE: _("Purchase cancelled or refunded"),
                  PointEntry.Source.REFERRAL: _("The referred purchase was cancelled or refunded")}.get(
                      source, _("Service visit cancelled or refunded"))
        actor = _("cancellation")
    return points_reverse_source(tenant=tenant, source=source, source_id=source_id, reason=reason, actor=actor)
