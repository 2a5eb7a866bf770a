"""Reads of the club's members and cards: the member list (search by name, mobile or any card number the member
ever held), the parts of the member page, the customers a club worker may enrol, and the manual adjustments."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.selectors import staff_directory
from accounts.visibility import visibility_for
from club.filters import MemberFilter
from club.models import (
    AdjustmentRequest,
    Card,
    LevelBenefit,
    LevelEvent,
    Member,
    PointEntry,
    Reconciliation,
    Redemption,
    ServiceRequest,
)
from club.models.perks import ServiceKind
from club.selectors.access import ClubAccess, programme_of
from club.selectors.rewards import member_redemptions
from club.selectors.rules import Rules, rules_of
from crm.paging import Page, capped_count, keyset_page
from customers.models import Customer
from customers.selectors.customers import search as customer_search

SORTS = {
    "new": (_("Newest members first"), ("-enrolled_at", "-id")),
    "old": (_("Oldest members first"), ("enrolled_at", "id")),
    "points": (_("Most points first"), ("-points", "-id")),
    "name": (_("Name A–Z"), ("customer_name", "id")),
}
PAGE_SIZE = 50
MAX_QUERY = 100
CURRENT = (Card.Status.ACTIVE, Card.Status.LOST)  # the one card in use (a lost one waits to be reissued)
LIST_FIELDS = ("id", "tenant_id", "customer_id", "level_id", "status", "enrolled_at", "points", "qualifying",
               "customer__id", "customer__name", "customer__mobile", "customer__kind", "level__id", "level__name")


def _card_query(q: str, tenant) -> Q | None:
    """Cards a search finds by number: the number or its start (any case), or, for digits only, the programme's
    number with those digits (typing "17" finds VIP00000017). None when `q` cannot be a card number."""
    code = re.sub(r"[\s\-]", "", q).upper()
    if not code or len(code) > 32:
        return None
    condition = Q(number__startswith=code)
    if code.isdigit():
        programme = programme_of(tenant)
        if len(code) <= programme.card_digits:
            condition |= Q(number=f"{programme.card_prefix}{code.zfill(programme.card_digits)}")
    return condition


def search(queryset: QuerySet, q: str, user, tenant) -> QuerySet:
    """Members by their customer's name or mobile (the customer archive's search: a masked reader's digits match
    only the digits they are shown), or by the number of any card they ever held — a lost or replaced card's
    old number still finds its member."""
    q = q.replace("\x00", "").strip()[:MAX_QUERY]
    if not q:
        return queryset
    people = customer_search(Customer.objects.filter(is_active=True), q, user).order_by().values("pk")
    condition = Q(customer_id__in=people)
    cards = _card_query(q, tenant)
    if cards is not None:
        condition |= Q(pk__in=Card.objects.filter(cards).order_by().values("member_id"))
    return queryset.filter(condition)


@dataclass
class MemberList:
    filterset: MemberFilter
    page: Page
    count: int
    count_capped: bool
    sort: str
    q: str
    masked: bool


def _count_key(user, params) -> str:
    items = params.lists() if hasattr(params, "lists") else ((k, [v]) for k, v in params.items())
    wanted = sorted((k, str(v)) for k, values in items if k not in ("after", "sort") for v in values if v)
    digest = hashlib.sha1(repr(wanted).encode(), usedforsecurity=False).hexdigest()
    return f"club-members:{user.pk}:{digest}"


def member_list(user, params, *, request, access: ClubAccess) -> MemberList:
    """The members list: filters, search, sort, a keyset page and a capped count. Each row carries
    `current_card` (the card in use or None) and `old_cards` (former cards the search matched, with their
    successor), found in one query for the whole page."""
    filterset = MemberFilter(params, queryset=Member.objects.all(), request=request)
    queryset = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    q = params.get("q", "")
    queryset = search(queryset, q, user, request.tenant)
    sort = params.get("sort") if params.get("sort") in SORTS else "new"
    rows_qs = (queryset.select_related("customer", "level").only(*LIST_FIELDS)
               .annotate(customer_name=F("customer__name")))
    page = keyset_page(rows_qs, order=SORTS[sort][1], cursor=params.get("after"), size=PAGE_SIZE)
    count, capped = capped_count(queryset, remember_as=_count_key(user, params))
    _attach_cards(page.rows, q, request.tenant)
    for row in page.rows:
        row.customer.masked = access.masked
    return MemberList(filterset=filterset, page=page, count=count, count_capped=capped, sort=sort, q=q.strip(),
                      masked=access.masked)


def _attach_cards(rows: list[Member], q: str, tenant) -> None:
    for row in rows:
        row.current_card, row.old_cards = None, []
    if not rows:
        return
    by_id = {row.pk: row for row in rows}
    cards = Card.objects.filter(member_id__in=by_id).filter(status__in=CURRENT)
    matched = _card_query(q.replace("\x00", "").strip()[:MAX_QUERY], tenant) if q.strip() else None
    if matched is not None:
        cards = Card.objects.filter(member_id__in=by_id).filter(Q(status__in=CURRENT) | matched)
    for card in cards.select_related("replaced_by").order_by("issued_at", "id"):
        row = by_id[card.member_id]
        if card.status in CURRENT:
            row.current_card = card
        else:
            row.old_cards.append(card)


# --- the member page ---------------------------------------------------------------------------------


def cards_of(member: Member) -> tuple[Card | None, list[Card]]:
    """(the card in use or None, former cards newest first with their successor)."""
    current, former = None, []
    for card in (Card.objects.filter(member=member).select_related("replaced_by")
                 .order_by("-issued_at", "-id")):
        if card.status in CURRENT:
            current = card
        else:
            former.append(card)
    return current, former


LEVEL_EVENTS_SHOWN = 20


def level_events_of(member: Member) -> list[LevelEvent]:
    return list(LevelEvent.objects.filter(member=member).select_related("from_level", "to_level")
                .order_by("-occurred_at", "-id")[:LEVEL_EVENTS_SHOWN])


def benefits_of(member: Member, rules: Rules | None = None) -> list[LevelBenefit]:
    return list((rules or rules_of(member.tenant)).benefits.get(member.level_id, ()))


@dataclass
class ServiceUse:
    kind: str
    label: str
    used: int
    quota: int | None  # None: the level has no quota for it

    @property
    def left(self) -> int | None:
        return None if self.quota is None else max(self.quota - self.used, 0)


def services_used(member: Member, year: int, rules: Rules | None = None) -> list[ServiceUse]:
    """Each member service the level grants or the member used in `year`: used (not cancelled) against the
    level's yearly quota."""
    quotas = (rules or rules_of(member.tenant)).quotas.get(member.level_id, {})
    used = dict(ServiceRequest.objects.filter(member=member, quota_year=year)
                .exclude(status=ServiceRequest.Status.CANCELLED)
                .order_by().values_list("kind").annotate(n=Count("id")).values_list("kind", "n"))
    return [ServiceUse(kind, str(label), used.get(kind, 0), quotas.get(kind))
            for kind, label in ServiceKind.choices if kind in quotas or kind in used]


REDEMPTIONS_SHOWN = 20
JOURNAL_SHOWN = 20  # entries a page of the member's points history shows ("Older entries" pages back)


def pending_requests_of(member: Member) -> list[AdjustmentRequest]:
    return list(AdjustmentRequest.objects.filter(member=member, status=AdjustmentRequest.Status.PENDING)
                .order_by("created_at", "id"))


def staff_names(tenant_id: int, ids) -> dict[int, str]:
    """Names of staff by id from the per-process directory (no query per row)."""
    ids = {pk for pk in ids if pk is not None}
    directory = staff_directory(tenant_id, include=ids) if ids else {}
    return {pk: entry.name for pk, entry in directory.items() if pk in ids}


# --- enrolment -------------------------------------------------------------------------------------------


ENROL_FOUND = 20


def customers_to_enrol(user, q: str) -> list[Customer]:
    """Customers of the tenant a club worker may enrol, found by name, mobile, plate or VIN (the archive's
    search): the club enrols any customer. Each carries `member_status` (None, or the membership's status) and
    `masked` (their mobile is shown as the user's role shows it)."""
    q = q.strip()
    if not q:
        return []
    found = list(customer_search(Customer.objects.filter(is_active=True), q, user)
                 .order_by("name", "id")[:ENROL_FOUND])
    status = dict(Member.objects.filter(customer__in=found).values_list("customer_id", "status"))
    v = visibility_for(user)
    for customer in found:
        customer.member_status = status.get(customer.pk)
        customer.masked = v.is_masked(customer.owner_id, customer.department_id)
    return found


# --- manual adjustments ----------------------------------------------------------------------------------


MANUAL_SOURCES = (PointEntry.Source.MANUAL, PointEntry.Source.GOODWILL)
DAY_LIMIT = 500


def pending_adjustments() -> list[AdjustmentRequest]:
    return list(AdjustmentRequest.objects.filter(status=AdjustmentRequest.Status.PENDING)
                .select_related("member__customer", "requested_by__user").order_by("created_at", "id")[:DAY_LIMIT])


@dataclass
class DayAdjustments:
    day: date
    entries: list[PointEntry]
    decided: list[AdjustmentRequest] = field(default_factory=list)
    credited: int = 0
    debited: int = 0
    more: bool = False


def adjustments_of_day(tenant, day: date) -> DayAdjustments:
    """Every manual adjustment and goodwill gesture booked on `day` (the tenant's clock), and the requests
    decided that day."""
    start, end = tenant.day_bounds(day)
    entries = list(PointEntry.objects.filter(source__in=MANUAL_SOURCES, occurred_at__gte=start, occurred_at__lt=end)
                   .select_related("member__customer", "created_by__user", "approved_by__user")
                   .order_by("occurred_at", "id")[:DAY_LIMIT + 1])
    decided = list(AdjustmentRequest.objects.filter(decided_at__gte=start, decided_at__lt=end)
                   .exclude(status=AdjustmentRequest.Status.PENDING)
                   .select_related("member__customer", "requested_by__user", "decided_by__user")
                   .order_by("decided_at", "id")[:DAY_LIMIT])
    more = len(entries) > DAY_LIMIT
    entries = entries[:DAY_LIMIT]
    totals = defaultdict(int)
    for entry in entries:
        totals["credited" if entry.points > 0 else "debited"] += entry.points
    return DayAdjustments(day=day, entries=entries, decided=decided, credited=totals["credited"],
                          debited=-totals["debited"], more=more)


@dataclass
class MemberPage:
    customer_link: bool  # the user may open the customer's page
    summary: object  # club.selectors.points.member_summary
    journal: object  # club.selectors.points.journal_page
    current_card: Card | None
    former_cards: list[Card]
    level_events: list[LevelEvent]
    benefits: list[LevelBenefit]
    services: list[ServiceUse]
    year: int
    redemptions: list[Redemption]
    pending: list[AdjustmentRequest]
    names: dict[int, str]  # staff who made the journal's entries

    @property
    def debt(self) -> int:
        return max(-self.summary.points, 0)


def member_page(request, member: Member, access: ClubAccess, *, before: int | None = None) -> MemberPage:
    """Everything the member page shows besides the member row: a fixed number of queries whatever the history (the
    levels, benefits and quotas only when the programme's rules changed since this process last read them)."""
    from club.selectors.points import journal_page, member_summary
    from customers.selectors.customers import openable_customer

    member.customer.masked = access.masked
    rules = rules_of(request.tenant)  # the programme, and its levels, benefits and quotas as this process holds them
    current, former = cards_of(member)
    journal = journal_page(member, before=before, limit=JOURNAL_SHOWN, draws=False)
    pending = pending_requests_of(member)
    year = request.tenant.today().year
    entries = journal.entries
    names = staff_names(member.tenant_id, [e.created_by_id for e in entries] + [e.approved_by_id for e in entries]
                        + [p.requested_by_id for p in pending])
    kinds, sources = dict(PointEntry.Kind.choices), dict(PointEntry.Source.choices)  # not get_FOO_display per row
    for entry in entries:
        entry.by_name = names.get(entry.created_by_id) or entry.actor
        entry.approved_name = names.get(entry.approved_by_id, "")
        entry.kind_label = kinds.get(entry.kind, entry.kind)
        entry.source_label = sources.get(entry.source, entry.source)
    return MemberPage(
        customer_link=openable_customer(request.user, member.customer) is not None,
        summary=member_summary(member, rules), journal=journal, current_card=current, former_cards=former,
        level_events=level_events_of(member), benefits=benefits_of(member, rules),
        services=services_used(member, year, rules),
        year=year, redemptions=member_redemptions(member, limit=REDEMPTIONS_SHOWN), pending=pending, names=names)


def last_reconciliation():
    """The newest nightly check of the balances against the journal and the lots (None before the first)."""
    return Reconciliation.objects.order_by("-day").first()
