"""Reads for follow-ups, always through the role's visibility: a follow-up belongs to its assignee, and an
unassigned one to its department's queue. The queue tabs, the next-call candidates, the customer summary
of a call, and the customer-timeline entries of calls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Case, Count, F, Q, QuerySet, TextField, Value, When, prefetch_related_objects
from django.db.models.functions import Concat
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext, pgettext_lazy

from accounts.visibility import WorkSource, register_work, visibility_for, visible
from crm.paging import Page, keyset_page
from crm.prepared import Prepared
from customers import timeline
from customers.models import Customer, Lead, ServiceVisit
from customers.selectors import MAX_ID, customer_reach, vehicles_of
from customers.services.leads import OPEN_STATUSES as OPEN_LEAD_STATUSES
from service.generation import tenant_today
from service.models import Appointment, FollowUp, FollowUpCall, FollowUpPlan, Question, Survey, SurveyInvitation

Status = FollowUp.Status
PAGE_SIZE = 50
TAB_CAP = 999  # a tab's count stops here ("999+")
DUE_ORDER = ("priority", "due_on", "id")


@dataclass(frozen=True)
class Tab:
    key: str
    label: str


TABS = (
    Tab("overdue", _("Overdue")),
    Tab("today", _("Due today")),
    Tab("retries", _("Retries")),
    Tab("upcoming", _("Upcoming")),
)


def followups_visible_to(user, *, write: bool = False) -> QuerySet:
    return visible(FollowUp.objects.all(), user, owner="assignee", department="department", write=write)


def _tab_filter(key: str, today: date) -> tuple[Q, tuple[str, ...]]:
    waiting = Q(status=Status.OPEN, retry_at__isnull=True)
    if key == "overdue":
        return waiting & Q(due_on__lt=today), DUE_ORDER
    if key == "today":
        return waiting & Q(due_on=today), DUE_ORDER
    if key == "retries":
        return Q(status=Status.OPEN, retry_at__isnull=False), ("retry_at", "id")
    return waiting & Q(due_on__gt=today, visible_from__lte=today), ("due_on", "priority", "id")


@dataclass
class Workspace:
    tab: str
    counts: dict[str, tuple[int, bool]]  # tab → (count, capped)
    tabs: list[tuple[Tab, int, bool]]
    page: Page
    today: date
    now: datetime


def workspace(user, params, *, tenant, now: datetime | None = None) -> Workspace:
    """The queue tabs with their counts and one page of the chosen tab (what this user may see)."""
    now = now or timezone.now()
    today = tenant_today(tenant, now)
    base = followups_visible_to(user)
    counts = {}
    for tab in TABS:
        condition, _order = _tab_filter(tab.key, today)
        count = base.filter(condition).order_by()[: TAB_CAP + 1].count()
        counts[tab.key] = (min(count, TAB_CAP), count > TAB_CAP)
    key = params.get("tab") if params.get("tab") in {t.key for t in TABS} else None
    if key is None:  # the first tab with something in it
        key = next((t.key for t in TABS if counts[t.key][0]), TABS[0].key)
    condition, order = _tab_filter(key, today)
    page = keyset_page(base.filter(condition).select_related("plan", "customer", "vehicle", "assignee__user"),
                       order=order, cursor=params.get("after"), size=PAGE_SIZE)
    v = visibility_for(user)
    for followup in page.rows:
        followup.masked = followup.customer.masked = v.is_masked(followup.assignee_id, followup.department_id)
        followup.retry_due = followup.retry_at is not None and followup.retry_at <= now
    return Workspace(tab=key, counts=counts, tabs=[(t, *counts[t.key]) for t in TABS], page=page, today=today,
                     now=now)


def next_candidates(user, staff, now: datetime):
    """Querysets to probe in order for the next call; each reads one index range in order (a queue per
    department, so no probe sorts a whole queue)."""
    v = visibility_for(user)
    if v.read_only:
        return
    today = tenant_today(staff.tenant, now)
    open_ = FollowUp.objects.filter(status=Status.OPEN)
    yield open_.filter(assignee=staff, retry_at__lte=now).order_by("retry_at", "id")
    waiting = open_.filter(retry_at__isnull=True)
    yield waiting.filter(assignee=staff, due_on__lte=today).order_by(*DUE_ORDER)
    queues = sorted(v.queue_department_ids)
    for department_id in queues:
        yield waiting.filter(assignee__isnull=True, department_id=department_id, due_on__lte=today).order_by(*DUE_ORDER)
    yield waiting.filter(assignee=staff, visible_from__lte=today).order_by(*DUE_ORDER)
    for department_id in queues:
        yield (waiting.filter(assignee__isnull=True, department_id=department_id, visible_from__lte=today)
               .order_by(*DUE_ORDER))


_FOLLOWUP = Prepared("followup_call", lambda followup, tenant: FollowUp.objects.filter(pk=followup)
                     .select_related("plan", "customer", "vehicle", "assignee__user", "department"))


def followup_for(request, pk: int, *, write: bool = False) -> tuple[FollowUp, bool]:
    """The follow-up if this user may see it (404 otherwise, also another tenant's), and whether they may
    call for it. One prepared query by id and tenant; the role's visibility is then checked on the row
    (`Visibility.allows`, the same rule as `followups_visible_to`)."""
    found = _FOLLOWUP.instances(followup=pk, tenant=request.tenant.pk) if 0 < pk <= MAX_ID else []
    v = visibility_for(request.user)
    if not found or not v.allows(found[0].assignee_id, found[0].department_id):
        raise Http404
    followup = found[0]
    followup.masked = v.is_masked(followup.assignee_id, followup.department_id)
    may_call = request.user.has_perm("service.add_followupcall") and not followup.masked
    if write and not may_call:
        raise Http404
    return followup, may_call and followup.status == Status.OPEN


@dataclass
class Summary:
    """What the caller sees of the customer."""

    customer: Customer
    customer_link: Customer | None
    vehicles: list
    visits: list
    open_followups: list
    calls: list
    open_leads: list
    appointments: list  # the customer's booked appointments
    can_book: bool  # whether this user may book for the customer (their role's or the call's reach)


# what the caller sees of the customer: prepared, as this page is asked for all day long
_VISITS = Prepared("call_visits", lambda customer, tenant: ServiceVisit.objects.filter(customer=customer)
                   .select_related("vehicle").order_by("-opened_on", "-id")[:5])
_OTHER_FOLLOWUPS = Prepared("call_other_followups", lambda customer, followup, tenant: FollowUp.objects
                            .filter(customer=customer, status=Status.OPEN).exclude(pk=followup)
                            .select_related("plan").order_by("due_on", "id")[:10])
_CUSTOMER_CALLS = Prepared("call_customer_calls", lambda customer, tenant: FollowUpCall.objects
                           .filter(customer=customer).select_related("followup__plan", "staff__user")
                           .order_by("-created_at", "-id")[:10])
_OPEN_LEADS = Prepared("call_open_leads", lambda customer, tenant: Lead.objects
                       .filter(customer=customer, status__in=OPEN_LEAD_STATUSES).order_by("-created_at", "-id")[:5])
_BOOKED = Prepared("call_booked", lambda customer, tenant: Appointment.objects
                   .filter(customer=customer, status=Appointment.Status.BOOKED)
                   .select_related("advisor__user", "vehicle").order_by("starts_at", "id")[:5])
_QUESTIONS = Prepared("call_questions", lambda version, tenant: Question.objects.filter(version=version)
                      .order_by("order", "id"))
_ATTEMPTS = Prepared("call_attempts", lambda followup, tenant: FollowUpCall.objects.filter(followup=followup)
                     .select_related("staff__user", "lead").order_by("-created_at", "-id"))


def customer_summary(user, followup: FollowUp) -> Summary:
    customer = followup.customer
    customer.masked = followup.masked
    ids = {"customer": customer.pk, "tenant": followup.tenant_id}
    reach = customer_reach(user, customer) if customer.is_active else None
    return Summary(
        customer=customer,
        customer_link=customer if reach is not None and reach.visible else None,
        vehicles=vehicles_of(customer),
        visits=_VISITS.instances(**ids),
        open_followups=_OTHER_FOLLOWUPS.instances(**ids, followup=followup.pk),
        calls=_CUSTOMER_CALLS.instances(**ids),
        open_leads=_OPEN_LEADS.instances(**ids),
        appointments=_BOOKED.instances(**ids),
        can_book=(reach is not None and reach.visible and not reach.masked
                  and user.has_perm("service.add_appointment")),
    )


def questions_of(version_id: int | None, tenant_id: int) -> list[Question]:
    if version_id is None:
        return []
    return _QUESTIONS.instances(version=version_id, tenant=tenant_id)


def calls_of(followup: FollowUp) -> list[FollowUpCall]:
    """The attempts at this follow-up, newest first, with their answers."""
    calls = _ATTEMPTS.instances(followup=followup.pk, tenant=followup.tenant_id)
    if calls:
        prefetch_related_objects(calls, "answers__question")
    return calls


def plans_with_open_counts() -> list:
    """The tenant's plans with how many of their follow-ups are open (one query)."""
    plans = list(FollowUpPlan.objects.select_related("department", "position", "questionnaire")
                 .annotate(open_count=Count("followups", filter=Q(followups__status=Status.OPEN)))
                 .order_by("-is_active", "name"))
    for plan in plans:
        plan.days_before = -plan.offset_days
    return plans


# --- managers: the team's queues -------------------------------------------------------------------

TEAM_CAP = 5000  # "reassign all matching" moves at most this many at once


@dataclass
class TeamRow:
    label: str
    assignee_id: int | None
    department_id: int | None
    open: int
    overdue: int
    today: int
    retries: int
    escalated: int


def team_rows(user, *, tenant, today: date) -> list[TeamRow]:
    """Open follow-ups per team member and per team queue (what this user may reassign), in one query;
    members with nothing open are listed too."""
    from accounts.models import Department
    from accounts.selectors import staff_directory
    from service.filters import team_staff_choices

    waiting = Q(retry_at__isnull=True)
    counts = (followups_visible_to(user, write=True).filter(status=Status.OPEN)
              .annotate(queue=Case(When(assignee__isnull=True, then=F("department_id"))))
              .values("assignee_id", "queue")
              .annotate(open=Count("id"), overdue=Count("id", filter=waiting & Q(due_on__lt=today)),
                        today=Count("id", filter=waiting & Q(due_on=today)),
                        retries=Count("id", filter=Q(retry_at__isnull=False)),
                        escalated=Count("id", filter=Q(escalation__gt=FollowUp.Escalation.NONE)))
              .order_by())
    directory = staff_directory(tenant.pk, include=[row["assignee_id"] for row in counts])
    departments = dict(Department.objects.values_list("pk", "name"))
    rows, seen = [], set()
    for row in counts:
        assignee, queue = row["assignee_id"], row["queue"]
        if assignee is not None:
            label = directory[assignee].label
        else:
            label = _("Queue: %(team)s") % {"team": departments.get(queue, _("no team"))}
        seen.add(assignee)
        rows.append(TeamRow(str(label), assignee, queue, row["open"], row["overdue"], row["today"], row["retries"],
                            row["escalated"]))
    rows += [TeamRow(label, pk, None, 0, 0, 0, 0, 0) for pk, label in team_staff_choices(user, tenant.pk)
             if pk not in seen]
    rows.sort(key=lambda r: (r.assignee_id is not None, -r.overdue, r.label))
    return rows


def team_followups(user, params, *, request, today: date):
    """The filter over the open follow-ups this user may reassign, and its queryset."""
    from service.filters import TeamFilter

    base = followups_visible_to(user, write=True).filter(status=Status.OPEN)
    filterset = TeamFilter(params, queryset=base, request=request, today=today)
    return filterset, (filterset.qs if filterset.is_valid() else base.none())


def team_page(user, params, *, request, today: date):
    filterset, queryset = team_followups(user, params, request=request, today=today)
    page = keyset_page(queryset.select_related("plan", "customer", "assignee__user", "department"),
                       order=DUE_ORDER, cursor=params.get("after"), size=PAGE_SIZE)
    return filterset, page


# --- surveys ------------------------------------------------------------------------------------

INVITATION_ORDER = ("-occasion_on", "-id")


def invitations_visible_to(user, *, write: bool = False) -> QuerySet:
    """A survey invitation belongs to the consultant or advisor of its occasion and their team; the team that
    runs the survey (its department) sees all of the survey's invitations."""
    return visible(SurveyInvitation.objects.all(), user, owner="staff", department="department",
                   run_by="survey__department", write=write)


def survey_rows(user) -> list[Survey]:
    """Every survey with the counts of its invitations this user may see, by status, and its response rate
    (answered of those that reached the customer: sent, answered, expired)."""
    Status = SurveyInvitation.Status
    counts: dict[int, dict[str, int]] = {}
    for survey_id, status, count in (invitations_visible_to(user).order_by().values_list("survey_id", "status")
                                     .annotate(n=Count("*"))):
        counts.setdefault(survey_id, {})[status] = count
    surveys = list(Survey.objects.select_related("phone_plan", "department").order_by("-is_active", "name"))
    for survey in surveys:
        survey.counts = {status: counts.get(survey.pk, {}).get(status, 0) for status in Status.values}
        reached = survey.counts[Status.SENT] + survey.counts[Status.ANSWERED] + survey.counts[Status.EXPIRED]
        survey.response_rate = 100 * survey.counts[Status.ANSWERED] / reached if reached else None
    return surveys


def invitation_page(user, params, *, request):
    from service.filters import InvitationFilter

    base = invitations_visible_to(user)
    filterset = InvitationFilter(params, queryset=base, request=request)
    queryset = filterset.qs if filterset.is_valid() else base.none()
    page = keyset_page(queryset.select_related("survey", "customer", "staff__user"), order=INVITATION_ORDER,
                       cursor=params.get("after"), size=PAGE_SIZE)
    v = visibility_for(user)
    for invitation in page.rows:
        invitation.masked = v.is_masked(invitation.staff_id, invitation.department_id,
                                        run_by=invitation.survey.department_id)
    return filterset, page


# --- the customer timeline ------------------------------------------------------------------------


def _call_rows(customer):
    return customer.followup_calls.annotate(**timeline.columns(
        "followup_call", at="created_at",
        title=Concat(F("followup__plan__name"), Value("|", output_field=TextField()), F("outcome"),
                     output_field=TextField()),
        detail=Concat(F("note"), Value("|", output_field=TextField()), F("feedback_text"), output_field=TextField()),
        staff="staff_id"))


def _call_entry(row: timeline.Row) -> timeline.Entry:
    plan, _bar, outcome = row.title.partition("|")
    note, _bar, feedback = row.detail.partition("|")
    label = dict(FollowUpCall.Outcome.choices).get(outcome, outcome)
    return timeline.Entry(row.when, "followup_call", f"{_('Follow-up call')} · {plan}",
                          " · ".join(str(x) for x in (label, note, feedback) if x), row.who)


timeline.register(timeline.Source("followup_call", _call_rows, _call_entry))


def _appointment_rows(customer):
    return customer.appointments.annotate(**timeline.columns(
        "appointment", at="starts_at",
        title=Concat(F("kind"), Value("|", output_field=TextField()), F("status"), output_field=TextField()),
        detail=F("note"), staff="advisor_id"))


def _appointment_entry(row: timeline.Row) -> timeline.Entry:
    """At its time (a booked one ahead is at the top): kind, status, the advisor, the note."""
    kind, _bar, status = row.title.partition("|")
    kinds, statuses = dict(Appointment.Kind.choices), dict(Appointment.Status.choices)
    when = timezone.localtime(row.at).strftime("%H:%M")
    return timeline.Entry(row.when, "appointment", f"{pgettext('a booking', 'Appointment')} · {kinds.get(kind, kind)}",
                          " · ".join(str(x) for x in (when, statuses.get(status, status), row.detail) if x), row.who)


timeline.register(timeline.Source("appointment", _appointment_rows, _appointment_entry))


# --- access through work: the customers a caller reaches through their open follow-ups and appointments ----

def _open_followups(user) -> QuerySet:
    """The open follow-ups this user (or their team queue) holds that have not expired on the tenant's clock:
    access does not outlast the expiry because the nightly expiry job runs late."""
    staff = getattr(user, "staff", None)
    today = tenant_today(staff.tenant) if staff is not None else timezone.localdate()
    return followups_visible_to(user, write=True).filter(status=Status.OPEN, expires_on__gte=today)


def _booked_appointments(user) -> QuerySet:
    """The booked appointments this user (as the advisor, or the advisor's manager) holds inside the window of
    `Appointment.open_work` (60 days ahead to a day after the start)."""
    return visible(Appointment.objects.filter(Appointment.open_work()), user, owner="advisor", write=True)


register_work("customers.Customer", WorkSource(
    "followup", _("follow-up"), _open_followups, "customer", "service:followup"))
register_work("customers.Customer", WorkSource(
    "appointment", pgettext_lazy("a booking", "appointment"), _booked_appointments, "customer",
    "service:appointment"))
