"""Reads of club activities: the list, one activity (through the club access rule), its invitation list and its
report."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, Sum
from django.http import Http404

from club.filters import ActivityFilter
from club.models import Activity, ActivityLevel, Card, PointEntry, Registration
from club.selectors.access import ClubAccess, require_club
from crm.paging import Page, keyset_page

Status = Registration.Status
PAGE_SIZE = 50
LIST_CAP = 500  # rows of an invitation list on the activity page (the report counts them all)


def _seats():
    return Count("registrations", filter=Q(registrations__status__in=[Status.REGISTERED, Status.ATTENDED]))


@dataclass
class Listing:
    filter: ActivityFilter
    page: Page


def activity_page(params, *, request) -> Listing:
    base = Activity.objects.all()
    filterset = ActivityFilter(params, queryset=base, request=request)
    queryset = filterset.qs if filterset.is_valid() else base.none()
    upcoming = filterset.form.cleaned_data.get("when") == "upcoming" if filterset.is_valid() else False
    order = ("starts_at", "id") if upcoming else ("-starts_at", "-id")
    queryset = queryset.annotate(seats=_seats(), waiting=Count(
        "registrations", filter=Q(registrations__status=Status.WAITLISTED))).prefetch_related(
        Prefetch("audience_levels", queryset=ActivityLevel.objects.select_related("level").order_by("level__rank")))
    page = keyset_page(queryset.select_related("audience_tag"), order=order, cursor=params.get("after"),
                       size=PAGE_SIZE)
    return Listing(filter=filterset, page=page)


def activity_for(request, pk: int, *, write: bool = False) -> tuple[Activity, ClubAccess]:
    """One activity of the tenant, with the user's club access; another tenant's or a missing one is a 404."""
    access = require_club(request, write=write)
    activity = (Activity.objects.select_related("audience_tag", "audience_segment", "organiser__user")
                .filter(pk=pk).first())
    if activity is None:
        raise Http404
    return activity, access


def registration_for(request, pk: int, *, write: bool = False) -> tuple[Registration, ClubAccess]:
    """One registration of the tenant (the caller's sheet), like activity_for."""
    access = require_club(request, write=write)
    registration = Registration.objects.select_related("activity", "member__customer").filter(pk=pk).first()
    if registration is None:
        raise Http404
    return registration, access


def audience_levels(activity: Activity) -> list:
    return [row.level for row in ActivityLevel.objects.filter(activity=activity).select_related("level")
            .order_by("level__rank")]


def seats_taken(activity: Activity) -> int:
    return Registration.objects.filter(activity=activity, status__in=[Status.REGISTERED, Status.ATTENDED]).count()


@dataclass
class Report:
    invited: int
    registered: int  # holding a seat (checked in or not)
    waitlisted: int
    cancelled: int
    attended: int
    points: int

    @property
    def attendance_rate(self) -> float | None:
        """Checked in among those who held a seat."""
        return self.attended / self.registered if self.registered else None


def activity_report(activity: Activity) -> Report:
    counts = Registration.objects.filter(activity=activity).aggregate(
        invited=Count("pk", filter=Q(invite_channel__in=["call", "sms", "email"])),
        registered=Count("pk", filter=Q(status__in=[Status.REGISTERED, Status.ATTENDED])),
        waitlisted=Count("pk", filter=Q(status=Status.WAITLISTED)),
        cancelled=Count("pk", filter=Q(status=Status.CANCELLED)),
        attended=Count("pk", filter=Q(status=Status.ATTENDED)))
    points = PointEntry.objects.filter(
        source=PointEntry.Source.ACTIVITY,
        source_id__in=Registration.objects.filter(activity=activity).values("pk")).aggregate(total=Sum("points"))
    return Report(**counts, points=points["total"] or 0)


def registration_rows(activity: Activity, *, access: ClubAccess, status: str = "") -> tuple[list, bool]:
    """The activity's list (at most LIST_CAP rows, and whether there are more): each member with their mobile
    (masked for an analyst) and current card."""
    rows = Registration.objects.filter(activity=activity).select_related("member__customer", "member__level",
                                                                          "checked_in_by__user")
    if status in Status.values:
        rows = rows.filter(status=status)
    rows = list(rows.order_by("member__customer__name", "pk")[: LIST_CAP + 1])
    more = len(rows) > LIST_CAP
    rows = rows[:LIST_CAP]
    cards = dict(Card.objects.filter(member_id__in=[r.member_id for r in rows],
                                     status__in=[Card.Status.ACTIVE, Card.Status.LOST])
                 .values_list("member_id", "number"))
    for row in rows:
        row.member.customer.masked = access.masked
        row.card_number = cards.get(row.member_id, "")
    return rows, more


def registration_public(registration_id: int) -> Registration | None:
    return (Registration.objects.select_related("activity", "member__customer")
            .filter(pk=registration_id).first())
