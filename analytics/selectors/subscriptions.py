"""Reads of the scheduled report e-mails: whose subscriptions a user sees and may add, whether a recipient may
open a report, and when each subscription is due. What a report says for its recipient is built in
analytics.services.report_mail (it renders the exports, which read the selectors)."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Q
from django.utils.translation import gettext_lazy

from accounts.models import Staff
from accounts.visibility import visibility_for
from analytics.models import SentReport, Subscription
from analytics.selectors.dashboards import Period, period_of, role_of
from analytics.selectors.followups import month_start
from club.selectors.access import club_access

Report, Frequency = Subscription.Report, Subscription.Frequency
UNOPENED_SENDS = 4  # weekly e-mails unopened in a row (a month) before the subscription slows to monthly

REPORT_PERMS = {
    Report.FOLLOWUPS: "analytics.view_followup_report",
    Report.SURVEYS: "analytics.view_survey_report",
    Report.COMPLAINTS: "service.view_complaint_report",
    Report.CLUB: "club.view_club_report",
}


# --- who ------------------------------------------------------------------------------------------------------


def report_allowed(user, report: str, tenant) -> bool:
    """Whether `user` may open the report's page (the same checks as its view)."""
    if report == Report.DASHBOARD:
        return role_of(user) is not None
    if not user.has_perm(REPORT_PERMS[report]):
        return False
    return report != Report.CLUB or club_access(user, tenant) is not None


def subscribable_staff(user, staff):
    """Whom `user` may subscribe: themselves; a manager the people of their department subtree; a director
    anyone of the company."""
    people = Staff.objects.filter(is_active=True, user__is_active=True).select_related("user")
    v = visibility_for(user)
    if v.everything:
        return people.order_by("user__last_name", "user__first_name", "pk")
    return people.filter(Q(pk__in=v.staff_ids) | Q(pk=staff.pk)).order_by("user__last_name", "user__first_name",
                                                                         "pk")


def subscriptions_visible_to(user, staff):
    """The user's own subscriptions and those of the people they may subscribe (a manager's team)."""
    rows = Subscription.objects.filter(active=True).select_related("recipient__user", "created_by__user")
    v = visibility_for(user)
    if not v.everything:
        rows = rows.filter(Q(recipient_id__in=v.staff_ids) | Q(recipient=staff))
    return rows.order_by("recipient__user__last_name", "recipient__user__first_name", "recipient_id", "report")


# --- when -----------------------------------------------------------------------------------------------------


def period_start(frequency: str, today: date) -> date:
    """The Monday or the 1st a subscription's e-mail of `today`'s week or month is sent for."""
    if frequency == Frequency.MONTHLY:
        return month_start(today)
    return today - timedelta(days=today.weekday())


def covered_period(frequency: str, today: date) -> Period:
    """What an e-mail of `today`'s period reports on: the last whole week against the one before it, or the
    last month against the month before."""
    if frequency == Frequency.MONTHLY:
        return period_of("last_month", today)
    start = period_start(Frequency.WEEKLY, today) - timedelta(days=7)
    return Period("last_week", gettext_lazy("Last week"), start, start + timedelta(days=6),
                  start - timedelta(days=7), start - timedelta(days=1))


def due_subscriptions(today: date):
    """Active subscriptions whose e-mail of this week or month has not gone out."""
    due = Q()
    for frequency in Frequency.values:
        due |= Q(frequency=frequency) & (Q(last_sent_period__isnull=True)
                                         | Q(last_sent_period__lt=period_start(frequency, today)))
    return Subscription.objects.filter(due, active=True).order_by("pk")


def unopened_for_a_month(subscription: Subscription) -> bool:
    """A weekly subscription whose last UNOPENED_SENDS e-mails were all left unopened."""
    if subscription.frequency != Frequency.WEEKLY:
        return False
    last = list(SentReport.objects.filter(subscription=subscription).order_by("-period_start")
                .values_list("opened_at", flat=True)[:UNOPENED_SENDS])
    return len(last) == UNOPENED_SENDS and all(opened is None for opened in last)
