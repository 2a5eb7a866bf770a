"""The club on the customer page (customers cannot import the club, so the club registers itself there, in
ClubConfig.ready()): a panel with the customer's membership, level and balances for every staff member who sees
the customer, and the club's events on the customer timeline."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F, IntegerField, Min, OuterRef, Subquery, Sum, TextField, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from club.models import Card, LevelEvent, Member, PointEntry, PointLot, Registration, ServiceRequest
from club.models.perks import ServiceKind
from club.selectors.access import club_access
from customers import timeline
from customers.panels import Panel

EXPIRING_WITHIN_DAYS = 90  # "points expiring soon" on the customer page


# --- the panel ------------------------------------------------------------------------------------


def _open_lots(horizon):
    return PointLot.objects.filter(member=OuterRef("pk"), remaining__gt=0, expires_on__isnull=False,
                                   expires_on__lte=horizon).order_by().values("member")


def customer_panel(request, customer) -> dict:
    """The customer's membership as any staff member who sees the customer may know it: member or not, level,
    redeemable and qualifying points, the card in use and the points expiring soon (one query). Club workers
    and masked readers get the link to the member page; club workers the enrolment link for a non-member."""
    access = club_access(request.user, request.tenant)
    horizon = request.tenant.today() + timedelta(days=EXPIRING_WITHIN_DAYS)
    current = Card.objects.filter(member=OuterRef("pk"), status__in=[Card.Status.ACTIVE, Card.Status.LOST])
    member = (Member.objects.filter(customer_id=customer.pk).select_related("level")
              .annotate(card_number=Subquery(current.values("number")[:1]),
                        card_status=Subquery(current.values("status")[:1]),
                        expiring=Subquery(_open_lots(horizon).annotate(n=Sum("remaining")).values("n"),
                                          output_field=IntegerField()),
                        expiring_on=Subquery(_open_lots(horizon).annotate(d=Min("expires_on")).values("d")))
              .first())
    active = member is not None and member.status == Member.Status.ACTIVE
    return {
        "customer": customer,
        "member": member,
        "active": active,
        "debt": -member.points if member is not None and member.points < 0 else 0,
        "card_lost": member is not None and member.card_status == Card.Status.LOST,
        "within_days": EXPIRING_WITHIN_DAYS,
        "show_member": member is not None and access is not None,  # the club team, directors, analysts (masked)
        "can_enrol": not active and access is not None and access.works,
    }


PANEL = Panel("club", "club/partials/_customer_panel.html", customer_panel)


# --- the customer timeline ------------------------------------------------------------------------

_TEXT = TextField()


def _bar(*parts):
    """Text columns joined by "|" (a null part is empty)."""
    items = []
    for i, part in enumerate(parts):
        if i:
            items.append(Value("|", output_field=_TEXT))
        items.append(Coalesce(Cast(part, _TEXT), Value("", output_field=_TEXT)))
    return Concat(*items, output_field=_TEXT)


def _points_rows(customer):
    return PointEntry.objects.filter(member__customer=customer).annotate(**timeline.columns(
        "club_points", at="occurred_at", title=_bar(F("kind"), F("points")), detail=_bar(F("source"), F("reason")),
        staff="created_by_id"))


def _points_title(kind: str, points: int) -> str:
    n = abs(points)
    if kind == PointEntry.Kind.EARN:
        return ngettext("Earned %(points)s point", "Earned %(points)s points", n) % {"points": n}
    if kind == PointEntry.Kind.REDEEM:
        return ngettext("Redeemed %(points)s point", "Redeemed %(points)s points", n) % {"points": n}
    if kind == PointEntry.Kind.EXPIRE:
        return ngettext("%(points)s point expired", "%(points)s points expired", n) % {"points": n}
    signed = f"{points:+d}"
    if kind == PointEntry.Kind.REVERSE:
        return _("Points reversed: %(points)s") % {"points": signed}
    return _("Points adjusted: %(points)s") % {"points": signed}


def _points_entry(row: timeline.Row) -> timeline.Entry:
    kind, _sep, points = row.title.partition("|")
    source, _sep, reason = row.detail.partition("|")
    label = str(dict(PointEntry.Source.choices).get(source, source))
    return timeline.Entry(row.when, "club_points", _points_title(kind, int(points or 0)),
                          " · ".join(x for x in (reason, label) if x), row.who)


def _enrolled_rows(customer):
    return customer.memberships.annotate(**timeline.columns(
        "club_enrolled", at="enrolled_at", detail=F("consent_note"), staff="enrolled_by_id"))


def _cancelled_rows(customer):
    return customer.memberships.filter(cancelled_at__isnull=False).annotate(**timeline.columns(
        "club_cancelled", at="cancelled_at", detail=F("cancel_reason")))


def _card_rows(customer):
    return Card.objects.filter(member__customer=customer).annotate(**timeline.columns(
        "club_card", at="issued_at", title=F("number"), detail=F("replaces__number"), staff="issued_by_id"))


def _card_entry(row: timeline.Row) -> timeline.Entry:
    if row.detail:
        return timeline.Entry(row.when, "club_card", _("Card %(number)s issued to replace card %(old)s")
                              % {"number": row.title, "old": row.detail}, "", row.who)
    return timeline.Entry(row.when, "club_card", _("Card %(number)s issued") % {"number": row.title}, "", row.who)


def _card_lost_rows(customer):
    return Card.objects.filter(member__customer=customer, lost_at__isnull=False).annotate(**timeline.columns(
        "club_card_lost", at="lost_at", title=F("number")))


def _level_rows(customer):
    return LevelEvent.objects.filter(member__customer=customer).annotate(**timeline.columns(
        "club_level", at="occurred_at", title=_bar(F("kind"), F("from_level__name"), F("to_level__name")),
        detail=F("review_on")))


def _level_entry(row: timeline.Row) -> timeline.Entry:
    kind, _sep, rest = row.title.partition("|")
    before, _sep, after = rest.partition("|")
    if kind == LevelEvent.Kind.UPGRADE:
        title = _("Upgraded from %(from)s to %(to)s") % {"from": before, "to": after}
    elif kind == LevelEvent.Kind.DOWNGRADE:
        title = _("Downgraded from %(from)s to %(to)s") % {"from": before, "to": after}
    elif kind == LevelEvent.Kind.NOTICE:
        title = _("Told of a downgrade from %(from)s to %(to)s") % {"from": before, "to": after}
    else:
        title = _("Level %(level)s kept") % {"level": after}
    detail = _("Level review on %(day)s") % {"day": row.detail} if kind == LevelEvent.Kind.NOTICE else ""
    return timeline.Entry(row.when, "club_level", title, detail)


def _attended_rows(customer):
    return Registration.objects.filter(member__customer=customer, status=Registration.Status.ATTENDED,
                                       checked_in_at__isnull=False).annotate(**timeline.columns(
        "club_activity", at="checked_in_at", title=F("activity__title"), detail=F("activity__place"),
        staff="checked_in_by_id"))


def _service_rows(customer):
    return ServiceRequest.objects.filter(member__customer=customer).annotate(**timeline.columns(
        "club_service", day="wanted_on", title=F("kind"), detail=_bar(F("status"), F("note")),
        staff="delivered_by_id"))


def _service_entry(row: timeline.Row) -> timeline.Entry:
    status, _sep, note = row.detail.partition("|")
    label = str(dict(ServiceKind.choices).get(row.title, row.title))
    status_label = str(dict(ServiceRequest.Status.choices).get(status, status))
    return timeline.Entry(row.when, "club_service", _("Member service: %(service)s") % {"service": label},
                          " · ".join(x for x in (status_label, note) if x), row.who)


# registered in ClubConfig.ready()
TIMELINE_SOURCES = (
    timeline.Source("club_points", _points_rows, _points_entry),
    timeline.Source("club_enrolled", _enrolled_rows, lambda row: timeline.Entry(
        row.when, "club_enrolled", _("Enrolled in the club"), row.detail, row.who)),
    timeline.Source("club_cancelled", _cancelled_rows, lambda row: timeline.Entry(
        row.when, "club_cancelled", _("Club membership cancelled"), row.detail, row.who)),
    timeline.Source("club_card", _card_rows, _card_entry),
    timeline.Source("club_card_lost", _card_lost_rows, lambda row: timeline.Entry(
        row.when, "club_card_lost", _("Card %(number)s reported lost") % {"number": row.title})),
    timeline.Source("club_level", _level_rows, _level_entry),
    timeline.Source("club_activity", _attended_rows, lambda row: timeline.Entry(
        row.when, "club_activity", _("Attended %(activity)s") % {"activity": row.title}, row.detail, row.who)),
    timeline.Source("club_service", _service_rows, _service_entry),
)
