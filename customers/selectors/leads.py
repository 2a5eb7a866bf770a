"""Reads for leads (集客登记), always through the role's visibility: a lead belongs to its sales
consultant, and an unassigned one to its team's queue. Also the customer-timeline entries of leads, and the
tenant-wide reads the lead services check against (a known mobile, the round-robin candidates, a won lead's
customer)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import F, Q, TextField, Value
from django.db.models.functions import Concat
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Department, RoleKind, Staff
from accounts.visibility import visibility_for, visible
from crm.paging import Page, capped_count, keyset_page
from customers import timeline
from customers.filters import LeadFilter
from customers.models import Customer, ImportJob, ImportMapping, Lead
from customers.models.leads import OPEN_STATUSES
from customers.selectors.customers import MAX_QUERY, SHOWN_TAIL, customers_visible_to
from customers.selectors.customers import search as customer_search

SORTS = {
    "new": (_("Newest first"), ("-created_at", "-id")),
    "old": (_("Oldest first"), ("created_at", "id")),
    "idle": (_("Untouched longest first"), ("last_activity_at", "id")),
    "active": (_("Recently active first"), ("-last_activity_at", "-id")),
    "name": (_("Name A–Z"), ("name", "id")),
}
STALE_TABS = (3, 7, 14)  # the ageing view: open leads untouched for so many days
PAGE_SIZE = 50
REFERRER_MATCHES = 10


def leads_visible_to(user, *, write: bool = False):
    return visible(Lead.objects.all(), user, owner="consultant", department="department", write=write)


def search(queryset, q: str, user):
    """Name, platform lead ID, or part of the mobile. On leads whose mobile this user sees masked, digits
    match only the digits they are shown (the last four), so search cannot unmask a number."""
    q = q.replace("\x00", "").strip()[:MAX_QUERY]
    if not q:
        return queryset
    if re.fullmatch(r"[\d\s\-+()]+", q):
        digits = re.sub(r"\D", "", q)
        if digits.startswith("86") and len(digits) == 13:
            digits = digits[2:]
        mobile = Q(mobile__contains=digits)
        if visibility_for(user).reads_all_masked:
            full = leads_visible_to(user, write=True).values("pk")
            shown = Q(mobile__endswith=digits) if len(digits) <= SHOWN_TAIL else Q(pk__in=[])
            mobile &= Q(pk__in=full) | shown
        return queryset.filter(mobile | Q(external_id=q))
    return queryset.filter(Q(name__icontains=q) | Q(external_id=q))


@dataclass
class LeadList:
    filterset: LeadFilter
    page: Page
    count: int
    count_capped: bool
    sort: str
    q: str
    stale: int | None


def _stale_days(params) -> int | None:
    try:
        days = int(params.get("stale", ""))
    except ValueError:
        return None
    return days if 0 < days <= 3650 else None


def lead_list(user, params, *, request=None) -> LeadList:
    filterset = LeadFilter(params, queryset=leads_visible_to(user), request=request)
    queryset = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    q = params.get("q", "")
    queryset = search(queryset, q, user)
    stale = _stale_days(params)
    if stale:
        queryset = queryset.filter(status__in=OPEN_STATUSES,
                                   last_activity_at__lt=timezone.now() - timedelta(days=stale))
    default = "idle" if stale else "new"
    sort = params.get("sort") if params.get("sort") in SORTS else default
    page = keyset_page(queryset.select_related("consultant__user", "department"), order=SORTS[sort][1],
                       cursor=params.get("after"), size=PAGE_SIZE)
    count, capped = capped_count(queryset)
    v = visibility_for(user)
    now = timezone.now()
    for lead in page.rows:
        lead.masked = v.is_masked(lead.consultant_id, lead.department_id)
        lead.idle_days = (now - lead.last_activity_at).days
    return LeadList(filterset=filterset, page=page, count=count, count_capped=capped, sort=sort, q=q, stale=stale)


def lead_for(request, pk: int, *, write: bool = False) -> tuple[Lead, bool]:
    """The lead if this user may see it (404 otherwise, also for another tenant's), and whether they may
    work on it."""
    lead = (leads_visible_to(request.user)
            .select_related("consultant__user", "department", "referrer", "customer", "purchase__vehicle")
            .filter(pk=pk).first())
    if lead is None:
        raise Http404
    lead.masked = visibility_for(request.user).is_masked(lead.consultant_id, lead.department_id)
    can_edit = request.user.has_perm("customers.change_lead") and not lead.masked
    if write and not can_edit:
        raise Http404
    return lead, can_edit


def lead_events(lead: Lead) -> list:
    """The lead's history, oldest first (one query)."""
    return list(lead.events.select_related("staff__user", "consultant__user").order_by("created_at", "id"))


def openable_lead(user, lead: Lead | None) -> Lead | None:
    if lead is None:
        return None
    return leads_visible_to(user, write=True).filter(pk=lead.pk).first()


def referrer_matches(user, q: str) -> list[Customer]:
    """Customers this user may see, by name or mobile digits, for picking who referred a lead."""
    q = (q or "").strip()
    if not q:
        return []
    rows = list(customer_search(customers_visible_to(user), q, user).order_by("name", "id")[:REFERRER_MATCHES])
    v = visibility_for(user)
    for customer in rows:
        customer.masked = v.is_masked(customer.owner_id, customer.department_id)
    return rows


def referrer_choice(user, pk) -> Customer | None:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    customer = customers_visible_to(user).filter(pk=pk).first()
    if customer is not None:
        customer.masked = visibility_for(user).is_masked(customer.owner_id, customer.department_id)
    return customer


def lead_import_job_for(request, pk) -> ImportJob:
    """A lead import the user started (404 for anyone else's, another tenant's, or a customer import)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    job = ImportJob.objects.filter(pk=pk, kind=ImportMapping.Kind.LEADS, created_by=request.staff).first()
    if job is None:
        raise Http404
    return job


# --- reads the lead services check against (no visibility filter: they see the whole tenant) ---------


def known_mobile(mobile: str) -> tuple[Customer | None, Lead | None]:
    """The active customer and the newest open lead with this (normalised) mobile."""
    if not mobile:
        return None, None
    customer = Customer.objects.filter(mobile=mobile, is_active=True).first()
    lead = Lead.objects.filter(mobile=mobile, status__in=OPEN_STATUSES).order_by("-created_at", "-id").first()
    return customer, lead


def round_robin_candidates(department: Department):
    """Who takes turns in a team: its active sales specialists (consultants) by employee number; a team
    without specialist positions hands leads to everyone holding a position in it."""
    base = Staff.objects.filter(is_active=True)
    specialists = base.filter(assignments__position__department=department,
                              assignments__position__role_kind=RoleKind.SPECIALIST).distinct()
    if specialists.exists():
        return specialists.order_by("employee_no")
    return base.filter(assignments__position__department=department).distinct().order_by("employee_no")


def customer_of(lead: Lead) -> Customer | None:
    """The customer a won lead belongs to: the one it is attached to (or whoever that was merged into),
    else the active customer with the lead's mobile."""
    customer = lead.customer
    for _hop in range(10):
        if customer is None or customer.is_active:
            break
        customer = customer.merged_into
    if customer is not None and customer.is_active:
        return customer
    if lead.mobile:
        return Customer.objects.filter(mobile=lead.mobile, is_active=True).first()
    return None


# --- the customer timeline ------------------------------------------------------------------------


def _sep() -> Value:
    return Value("|", output_field=TextField())


def _lead_rows(customer):
    """Leads that became this customer or were attached to them."""
    return customer.leads.annotate(**timeline.columns(
        "lead", at="created_at",
        title=Concat(F("channel"), _sep(), F("platform"), output_field=TextField()),
        detail=Concat(F("status"), _sep(), F("model_interest"), _sep(), F("lost_reason"), output_field=TextField()),
        staff="consultant_id"))


def _lead_entry(row: timeline.Row) -> timeline.Entry:
    channel, _bar, platform = row.title.partition("|")
    status, _bar, rest = row.detail.partition("|")
    model_interest, _bar, lost_reason = rest.partition("|")
    source = " · ".join(x for x in (str(dict(Lead.Channel.choices).get(channel, channel)), platform) if x)
    detail = " · ".join(x for x in (str(dict(Lead.Status.choices).get(status, status)), model_interest,
                                    lost_reason) if x)
    return timeline.Entry(row.when, "lead", f"{_('Lead')} · {source}", detail, row.who)


def _referral_rows(customer):
    """Leads this customer referred (会员推荐): when and how far they got, not whom — the referred person's
    lead may belong to a team the viewer does not see."""
    return customer.referrals.annotate(**timeline.columns(
        "referral", at="created_at", detail=F("status"), staff="consultant_id"))


def _referral_entry(row: timeline.Row) -> timeline.Entry:
    return timeline.Entry(row.when, "referral", str(_("Referred a lead")),
                          str(dict(Lead.Status.choices).get(row.detail, row.detail)), row.who)


TIMELINE_SOURCES = (  # registered in CustomersConfig.ready()
    timeline.Source("lead", _lead_rows, _lead_entry),
    timeline.Source("referral", _referral_rows, _referral_entry),
)
