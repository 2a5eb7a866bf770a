"""Reads for follow-ups, always through the role's visibility: a follow-up belongs to its assignee, and an
unassigned one to its department's queue. The queue tabs, the follow-up records (every status, filtered), the
next-call candidates, the customer summary of a call, and the customer-timeline entries of calls."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, F, Q, QuerySet, TextField, Value, prefetch_related_objects
from django.db.models.functions import Concat
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.visibility import WorkSource, visibility_for, visible
from crm.forms import MAX_ID
from crm.paging import Page, capped_count, keyset_page
from crm.prepared import Prepared
from customers import timeline
from customers.models import Customer, Lead, ServiceVisit
from customers.models.leads import OPEN_STATUSES as OPEN_LEAD_STATUSES
from customers.selectors.customers import customer_reach, vehicles_of
from service.filters import FollowUpRecordFilter
from service.models import Appointment, FollowUp, FollowUpCall, FollowUpPlan, Question

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
    today = tenant.today(now)
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


# --- the follow-up records (every status, filtered; the dashboards' tiles open it) -------------------------

RECORD_ORDER = ("-due_on", "-id")  # the newest due first, on the (tenant, due_on) index


@dataclass
class Records:
    filter: FollowUpRecordFilter
    page: Page
    count: int
    count_capped: bool  # more than crm.paging.COUNT_CAP: "10,000+"


def _records_count_key(user, params) -> str:
    """Who is asking and for what (the page cursor does not change the count)."""
    items = params.lists() if hasattr(params, "lists") else ((k, [v]) for k, v in params.items())
    wanted = sorted((k, str(v)) for k, values in items if k != "after" for v in values if v)
    digest = hashlib.sha1(repr(wanted).encode(), usedforsecurity=False).hexdigest()
    return f"followup-records:{user.pk}:{digest}"


def followup_records(user, params, *, request, today: date | None = None) -> Records:
    """One keyset page of the follow-ups this user may read, of any status, through the records' filter, and how
    many match (exact up to the cap). Invalid filter input matches nothing (the form says why)."""
    base = followups_visible_to(user)
    filterset = FollowUpRecordFilter(params, queryset=base, request=request, today=today)
    queryset = filterset.qs if filterset.is_valid() else base.none()
    page = keyset_page(queryset.select_related("plan", "customer", "assignee__user", "department"),
                       order=RECORD_ORDER, cursor=params.get("after"), size=PAGE_SIZE)
    count, capped = capped_count(queryset, remember_as=_records_count_key(user, params))
    v = visibility_for(user)
    for followup in page.rows:
        followup.masked = followup.customer.masked = v.is_masked(followup.assignee_id, followup.department_id)
    return Records(filter=filterset, page=page, count=count, count_capped=capped)


def next_candidates(user, staff, now: datetime):
    """Querysets to probe in order for the next call; each reads one index range in order (a queue per
    department, so no probe sorts a whole queue)."""
    v = visibility_for(user)
    if v.read_only:
        return
    today = staff.tenant.today(now)
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


# registered in ServiceConfig.ready()
TIMELINE_SOURCES = (timeline.Source("followup_call", _call_rows, _call_entry),)


# --- access through work: the customers a caller reaches through their open follow-ups ---------------------

def _open_followups(user) -> QuerySet:
    """The open follow-ups this user (or their team queue) holds that have not expired on the tenant's clock:
    access does not outlast the expiry because the nightly expiry job runs late."""
    staff = getattr(user, "staff", None)
    today = staff.tenant.today() if staff is not None else timezone.localdate()
    return followups_visible_to(user, write=True).filter(status=Status.OPEN, expires_on__gte=today)


WORK_SOURCE = WorkSource(  # registered in ServiceConfig.ready()
    "followup", _("follow-up"), _open_followups, "customer", "service:followup")
