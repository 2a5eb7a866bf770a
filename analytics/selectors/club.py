"""Reads of the club operations report (俱乐部运营报告): members by level at each month's end of the period,
enrolments, active members, the points issued, redeemed, expired and reversed in the period, the points
outstanding at its end and their liability in yuan, the top rewards, activities and attendance, the member
services used against the levels' quotas, and referral conversion (referrals → leads won).

The period is in the company's time zone. Everything is counted in SQL (aggregates and GROUP BY, one query per
table and one per month of the trend), whatever the number of members; no figure names a person."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analytics.filters import ClubReportFilter
from analytics.selectors.complaints import months_between
from analytics.selectors.followups import month_end, presets, rate, report_params
from club.models import (
    Activity,
    Level,
    LevelEvent,
    Member,
    PointEntry,
    Redemption,
    Referral,
    Registration,
    ServiceQuota,
    ServiceRequest,
)
from club.models.perks import ServiceKind
from club.selectors.access import programme_of
from crm.replica import reading_connection
from customers.models import Lead

Kind = PointEntry.Kind
TOP_REWARDS = 10
MAX_ACTIVITIES = 50

FORMULAS = (
    (_("Members by level"), _("members enrolled and not cancelled at the end of each month, at the level they held "
                              "then (from their level changes)")),
    (_("Active members"), _("members with a points movement of their own (not an expiry) or an attended activity "
                            "in the period")),
    (_("Points issued"), _("points earned plus manual credits in the period")),
    (_("Points outstanding"), _("the members' positive balances at the end of the period, from the journal; debts "
                                "(negative balances) are shown apart")),
    (_("Liability"), _("points outstanding × the value of a point")),
    (_("Referral conversion"), _("referrals of the period whose lead was won ÷ referrals of the period")),
)


@dataclass
class PointFigures:
    issued: int = 0  # earned + manual credits
    earned: int = 0
    credited: int = 0  # manual credits (adjustments up)
    debited: int = 0  # manual debits (adjustments down), positive
    redeemed: int = 0  # positive
    returned: int = 0  # redemptions cancelled: points given back
    expired: int = 0  # positive
    reversed: int = 0  # earnings reversed (a cancelled or refunded purchase or visit), positive
    outstanding: int = 0  # at the end of the period: positive balances
    debt: int = 0  # at the end of the period: negative balances, positive
    point_value: Decimal = Decimal(0)

    @property
    def liability(self) -> Decimal:
        return (self.outstanding * self.point_value).quantize(Decimal("0.01"))


@dataclass
class LevelLine:
    label: str
    counts: list[int]  # per month of the trend

    @property
    def last(self) -> int:
        return self.counts[-1] if self.counts else 0


@dataclass
class RewardLine:
    label: str
    redemptions: int
    quantity: int
    points: int


@dataclass
class ActivityLine:
    label: str
    starts_at: datetime
    status: str
    capacity: int
    registered: int  # registered or checked in
    waitlisted: int
    attended: int

    @property
    def attendance_rate(self) -> float | None:
        return rate(self.attended, self.registered)


@dataclass
class ServiceLine:
    label: str
    requested: int  # not cancelled, wanted in the period
    done: int
    entitlement: int  # times a year, over the active members' levels

    @property
    def use_rate(self) -> float | None:
        return rate(self.requested, self.entitlement)


@dataclass
class ClubReport:
    filterset: ClubReportFilter
    presets: list
    valid: bool
    start: date | None = None
    end: date | None = None
    months: list[date] = field(default_factory=list)
    by_level: list[LevelLine] = field(default_factory=list)
    members_total: list[int] = field(default_factory=list)
    enrolled: int = 0
    cancelled: int = 0
    active: int = 0
    points: PointFigures = field(default_factory=PointFigures)
    top_rewards: list[RewardLine] = field(default_factory=list)
    activities: list[ActivityLine] = field(default_factory=list)
    activities_held: int = 0
    registered: int = 0
    attended: int = 0
    services: list[ServiceLine] = field(default_factory=list)
    referrals: int = 0
    referrals_won: int = 0
    referral_points: int = 0
    formulas: tuple = FORMULAS
    zone: object = None  # the company's time zone, for the activities' times

    @property
    def members_at_end(self) -> int:
        return self.members_total[-1] if self.members_total else 0

    @property
    def active_rate(self) -> float | None:
        return rate(self.active, self.members_at_end)

    @property
    def attendance_rate(self) -> float | None:
        return rate(self.attended, self.registered)

    @property
    def referral_conversion(self) -> float | None:
        return rate(self.referrals_won, self.referrals)


def _level_changes():
    return LevelEvent.objects.filter(member=OuterRef("pk"), kind__in=[LevelEvent.Kind.UPGRADE,
                                                                       LevelEvent.Kind.DOWNGRADE])


def _member_then(moment: datetime) -> Q:
    """Enrolled before `moment` and not cancelled by then."""
    return Q(enrolled_at__lt=moment) & ~Q(cancelled_at__lt=moment)


def _steady_levels(moments: list[datetime]) -> list[dict[int, int]]:
    """{level id: members} at each moment for the members whose level never changed (most of them): one GROUP BY
    by level with a count per moment."""
    rows = (Member.objects.filter(~Exists(_level_changes())).order_by().values("level_id")
            .annotate(**{f"at_{n}": Count("pk", filter=_member_then(moment)) for n, moment in enumerate(moments)}))
    counts: list[dict[int, int]] = [{} for _ in moments]
    for row in rows:
        for n in range(len(moments)):
            counts[n][row["level_id"]] = row[f"at_{n}"]
    return counts


def _changed_levels_at(moment: datetime) -> dict[int, int]:
    """{level id: members} at `moment` for the members whose level changed, each at the level they held then: the
    level their last change before it led to, else the level their first later change started from. One GROUP BY
    query."""
    before = (_level_changes().filter(occurred_at__lt=moment).order_by("-occurred_at", "-pk")
              .values("to_level_id")[:1])
    after = _level_changes().filter(occurred_at__gte=moment).order_by("occurred_at", "pk").values("from_level_id")[:1]
    rows = (Member.objects.filter(Exists(_level_changes())).filter(_member_then(moment))
            .annotate(level_then=Coalesce(Subquery(before), Subquery(after), "level_id",
                                          output_field=IntegerField()))
            .order_by().values("level_then").annotate(members=Count("pk")))
    return {row["level_then"]: row["members"] for row in rows}


def _trend(report: ClubReport, tenant, now: datetime) -> None:
    report.months = months_between(report.start, report.end)
    levels = list(Level.objects.order_by("rank").values_list("pk", "name"))
    moments = [min(tenant.day_bounds(min(month_end(first), report.end))[1], now) for first in report.months]
    per_month = _steady_levels(moments)
    for counts, moment in zip(per_month, moments, strict=True):
        for level_id, members in _changed_levels_at(moment).items():
            counts[level_id] = counts.get(level_id, 0) + members
    report.by_level = [LevelLine(name, [counts.get(pk, 0) for counts in per_month]) for pk, name in levels]
    report.members_total = [sum(counts.values()) for counts in per_month]


def _balances_at(moment: datetime) -> tuple[int, int]:
    """(sum of the positive balances, sum of the negative ones as a positive number) of the members at `moment`,
    from the journal: the entries before it summed per member (one GROUP BY, built by the scoped ORM, so the
    tenant is in its WHERE), then those sums summed by sign."""
    per_member = (PointEntry.objects.filter(occurred_at__lt=moment).order_by().values("member_id")
                  .annotate(balance=Sum("points")).values("balance"))
    sql, params = per_member.query.sql_with_params()
    with reading_connection().cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(SUM(GREATEST(b.balance, 0)), 0), COALESCE(SUM(LEAST(b.balance, 0)), 0) "
                       f"FROM ({sql}) AS b", params)
        positive, negative = cursor.fetchone()
    return int(positive), -int(negative)


def _points(lo: datetime, hi: datetime, tenant) -> PointFigures:
    def total(condition):
        return Coalesce(Sum("points", filter=condition), 0)

    row = PointEntry.objects.filter(occurred_at__gte=lo, occurred_at__lt=hi).order_by().aggregate(
        figure_earned=total(Q(kind=Kind.EARN)),
        figure_credited=total(Q(kind=Kind.ADJUST, points__gt=0)),
        figure_debited=total(Q(kind=Kind.ADJUST, points__lt=0)),
        figure_redeemed=total(Q(kind=Kind.REDEEM)),
        figure_returned=total(Q(kind=Kind.REVERSE, points__gt=0)),
        figure_expired=total(Q(kind=Kind.EXPIRE)),
        figure_reversed=total(Q(kind=Kind.REVERSE, points__lt=0)),
    )
    figures = PointFigures(
        earned=row["figure_earned"], credited=row["figure_credited"], debited=-row["figure_debited"],
        redeemed=-row["figure_redeemed"], returned=row["figure_returned"], expired=-row["figure_expired"],
        reversed=-row["figure_reversed"], point_value=programme_of(tenant).point_value)
    figures.issued = figures.earned + figures.credited
    figures.outstanding, figures.debt = _balances_at(hi)
    return figures


def _active(lo: datetime, hi: datetime) -> int:
    moved = PointEntry.objects.filter(member=OuterRef("pk"), occurred_at__gte=lo, occurred_at__lt=hi).exclude(
        kind=Kind.EXPIRE)
    attended = Registration.objects.filter(member=OuterRef("pk"), status=Registration.Status.ATTENDED,
                                           checked_in_at__gte=lo, checked_in_at__lt=hi)
    return Member.objects.filter(Q(Exists(moved)) | Q(Exists(attended))).count()


def _rewards(lo: datetime, hi: datetime) -> list[RewardLine]:
    rows = (Redemption.objects.filter(created_at__gte=lo, created_at__lt=hi)
            .exclude(status=Redemption.Status.CANCELLED).order_by().values("reward_id", "reward__name")
            .annotate(redemptions=Count("pk"), quantity=Sum("quantity"), spent=Sum("points"))
            .order_by("-redemptions", "-spent", "reward__name")[:TOP_REWARDS])
    return [RewardLine(row["reward__name"], row["redemptions"], row["quantity"], row["spent"]) for row in rows]


def _activities(report: ClubReport, lo: datetime, hi: datetime) -> None:
    signed_up = [Registration.Status.REGISTERED, Registration.Status.ATTENDED]
    rows = (Activity.objects.filter(starts_at__gte=lo, starts_at__lt=hi).order_by("starts_at", "pk")
            .annotate(registered=Count("registrations", filter=Q(registrations__status__in=signed_up)),
                      waitlisted=Count("registrations",
                                       filter=Q(registrations__status=Registration.Status.WAITLISTED)),
                      attended=Count("registrations", filter=Q(registrations__status=Registration.Status.ATTENDED)))
            .values("title", "starts_at", "status", "capacity", "registered", "waitlisted", "attended"))
    statuses = dict(Activity.Status.choices)
    held = (Activity.objects.filter(starts_at__gte=lo, starts_at__lt=hi)
            .exclude(status=Activity.Status.CANCELLED).order_by()
            .aggregate(activities=Count("pk", distinct=True),
                       registered=Count("registrations", filter=Q(registrations__status__in=signed_up)),
                       attended=Count("registrations", filter=Q(registrations__status=Registration.Status.ATTENDED))))
    report.activities_held, report.registered, report.attended = held["activities"], held["registered"], held[
        "attended"]
    report.activities = [ActivityLine(row["title"], row["starts_at"], str(statuses.get(row["status"], row["status"])),
                                      row["capacity"], row["registered"], row["waitlisted"], row["attended"])
                         for row in rows[:MAX_ACTIVITIES]]


def _services(start: date, end: date) -> list[ServiceLine]:
    used = {row["kind"]: row for row in (
        ServiceRequest.objects.filter(wanted_on__gte=start, wanted_on__lte=end)
        .exclude(status=ServiceRequest.Status.CANCELLED).order_by().values("kind")
        .annotate(requested=Count("pk"), done=Count("pk", filter=Q(status=ServiceRequest.Status.DONE))))}
    # the quotas are a few rows (levels × services): their members per level in one GROUP BY
    members = dict(Member.objects.filter(status=Member.Status.ACTIVE).order_by().values("level_id")
                   .annotate(n=Count("pk")).values_list("level_id", "n"))
    entitlement: dict[str, int] = {}
    for level_id, kind, per_year in ServiceQuota.objects.values_list("level_id", "kind", "per_year"):
        entitlement[kind] = entitlement.get(kind, 0) + per_year * members.get(level_id, 0)
    return [ServiceLine(str(label), used.get(kind, {}).get("requested", 0), used.get(kind, {}).get("done", 0),
                        entitlement.get(kind, 0)) for kind, label in ServiceKind.choices]


def _referrals(report: ClubReport, lo: datetime, hi: datetime) -> None:
    row = Referral.objects.filter(created_at__gte=lo, created_at__lt=hi).order_by().aggregate(
        figure_made=Count("pk"), figure_won=Count("pk", filter=Q(lead__status=Lead.Status.WON)),
        figure_points=Coalesce(Sum("entry__points"), 0))
    report.referrals, report.referrals_won, report.referral_points = (row["figure_made"], row["figure_won"],
                                                                      row["figure_points"])


def club_report(params: QueryDict, *, tenant, now: datetime | None = None) -> ClubReport:
    """The report for the period in `params` (default: this month in the company's time zone); with an invalid
    period, the filter form with its errors and no figures. Call inside the tenant's scope."""
    now = now or timezone.now()
    today = tenant.today(now)
    filterset = ClubReportFilter(report_params(params, today), queryset=Member.objects.none())
    report = ClubReport(filterset, presets(today), valid=filterset.is_valid(), zone=tenant.zone)
    if not report.valid:
        return report
    report.start, report.end = filterset.form.cleaned_data["date_from"], filterset.form.cleaned_data["date_to"]
    lo, hi = tenant.day_bounds(report.start)[0], tenant.day_bounds(report.end)[1]
    _trend(report, tenant, now)
    row = Member.objects.order_by().aggregate(
        enrolled=Count("pk", filter=Q(enrolled_at__gte=lo, enrolled_at__lt=hi)),
        cancelled=Count("pk", filter=Q(cancelled_at__gte=lo, cancelled_at__lt=hi)))
    report.enrolled, report.cancelled = row["enrolled"], row["cancelled"]
    report.active = _active(lo, hi)
    report.points = _points(lo, hi, tenant)
    report.top_rewards = _rewards(lo, hi)
    _activities(report, lo, hi)
    report.services = _services(report.start, report.end)
    _referrals(report, lo, hi)
    return report
