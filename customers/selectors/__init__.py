"""Reads of the customer archive, always through the role's visibility (accounts.visibility)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from django.db.models import BigIntegerField, OuterRef, Q, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.selectors import staff_directory
from accounts.visibility import visibility_for, visible
from crm.paging import Page, capped_count, keyset_page
from customers.filters import CustomerFilter
from customers.models import Customer

SORTS = {
    "new": (_("Newest first"), ("-created_at", "-id")),
    "old": (_("Oldest first"), ("created_at", "id")),
    "name": (_("Name A–Z"), ("name", "id")),
    "-name": (_("Name Z–A"), ("-name", "-id")),
}
PAGE_SIZE = 50
LIST_FIELDS = ("id", "tenant_id", "name", "kind", "mobile", "tier", "stage", "owner_id", "department_id",
               "last_visit_on", "created_at")
MIN_CONTAINS = 3  # shorter text has no trigram to search by: match the start of the name instead


def customers_visible_to(user, *, write: bool = False):
    return visible(Customer.objects.filter(is_active=True), user, owner="owner", department="department",
                   write=write)


MAX_QUERY = 100
SHOWN_TAIL = 4  # a masked mobile shows its last four digits (138****5678)


def search(queryset, q: str, user=None):
    """Name, part of a mobile (e.g. its last four digits), plate or VIN. On rows whose mobile this
    user sees masked, digits match only the digits they are shown, so search cannot unmask a number."""
    q = q.replace("\x00", "").strip()[:MAX_QUERY]
    if not q:
        return queryset
    digits_only = bool(re.fullmatch(r"[\d\s\-+()]+", q))
    if digits_only:
        q = re.sub(r"\D", "", q)
        if q.startswith("86") and len(q) == 13:
            q = q[2:]
    else:
        q = q.replace(" ", "").replace("·", "")
    if len(q) < MIN_CONTAINS:
        return queryset.filter(name__startswith=q)
    matches = queryset.filter(search_text__contains=q.lower())
    visibility = visibility_for(user) if user is not None else None
    if digits_only and visibility is not None and visibility.reads_all_masked:
        full = customers_visible_to(user, write=True).values("pk")
        shown = Q(mobile__endswith=q) if len(q) <= SHOWN_TAIL else Q(pk__in=[])
        matches = matches.filter(Q(pk__in=full) | shown)
    return matches


def _count_key(user, params) -> str:
    """Who is asking and for what (the page cursor and the sort do not change the count)."""
    items = params.lists() if hasattr(params, "lists") else ((k, [v]) for k, v in params.items())
    wanted = sorted((k, str(v)) for k, values in items if k not in ("after", "sort") for v in values if v)
    digest = hashlib.sha1(repr(wanted).encode(), usedforsecurity=False).hexdigest()
    return f"customers:{user.pk}:{digest}"


@dataclass
class CustomerList:
    filterset: CustomerFilter
    page: Page
    count: int
    count_capped: bool
    sort: str
    q: str


def customer_list(user, params, *, request=None) -> CustomerList:
    filterset = CustomerFilter(params, queryset=customers_visible_to(user), request=request)
    queryset = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    q = params.get("q", "")
    queryset = search(queryset, q, user)
    sort = params.get("sort") if params.get("sort") in SORTS else "new"
    page = keyset_page(queryset.only(*LIST_FIELDS), order=SORTS[sort][1], cursor=params.get("after"), size=PAGE_SIZE)
    count, capped = capped_count(queryset, remember_as=_count_key(user, params))
    v = visibility_for(user)
    for row in page.rows:
        row.masked = v.is_masked(row.owner_id, row.department_id)
    return CustomerList(filterset=filterset, page=page, count=count, count_capped=capped, sort=sort, q=q)


def customer_for(request, pk: int, *, write: bool = False) -> tuple[Customer, bool]:
    """The customer if this user may see it (404 otherwise, also for another tenant's), and whether
    they may change it."""
    customer = (customers_visible_to(request.user).select_related("owner__user", "department")
                .filter(pk=pk).first())
    if customer is None:
        raise Http404
    v = visibility_for(request.user)
    customer.masked = v.is_masked(customer.owner_id, customer.department_id)
    can_edit = request.user.has_perm("customers.change_customer") and not customer.masked
    if write and not can_edit:
        raise Http404
    return customer, can_edit


# --- change history (django-pghistory) ----------------------------------------------------------

HIDDEN_IN_HISTORY = {"id", "tenant", "created_at", "updated_at", "search_text", "last_visit_on", "completeness"}
MASKED_IN_HISTORY = {"mobile", "id_number", "address", "other_phone", "email", "wechat_id", "birthday"}


@dataclass
class Change:
    when: object
    who: str
    label: str
    fields: list[tuple[str, str, str]]  # (field label, before, after)


def customer_history(customer: Customer, *, masked: bool, limit: int = 20) -> list[Change]:
    """Who changed which field when, newest first (one query for the events, one for their users)."""
    from customers.validators import display_mobile, mask_mobile, mask_text

    author_id = Cast(KeyTextTransform("user", OuterRef("pgh_context__metadata")), BigIntegerField())
    author = User.objects.filter(pk=author_id)
    events = list(
        customer.events.annotate(who_first=Subquery(author.values("first_name")[:1]),
                                 who_last=Subquery(author.values("last_name")[:1]),
                                 who_username=Subquery(author.values("username")[:1]))
        .order_by("-pgh_id")[: limit + 1]
    )
    events.reverse()
    fields = [f for f in Customer._meta.concrete_fields if f.name not in HIDDEN_IN_HISTORY]
    staff_ids = {getattr(e, "owner_id", None) for e in events} - {None}
    directory = staff_directory(customer.tenant_id, include=staff_ids)
    staff_names = {pk: entry.name for pk, entry in directory.items()}

    def shown(field, value):
        if value in (None, ""):
            return "—"
        if masked and field.name in MASKED_IN_HISTORY:
            if field.name == "mobile":
                return mask_mobile(value)
            if field.name == "birthday":
                return str(value.year)  # as on the profile
            return mask_text(str(value), 1, 1)
        if field.name == "mobile":
            return display_mobile(value)
        if field.choices:
            return str(dict(field.flatchoices).get(value, value))
        if field.name == "owner":
            return staff_names.get(value, f"#{value}")
        if field.is_relation:
            return f"#{value}"
        if isinstance(value, bool):
            return str(_("yes") if value else _("no"))
        return str(value)

    changes = []
    for before, after in zip([None, *events], events, strict=False):
        if before is None and after.pgh_label != "insert":
            continue  # the oldest event kept is only the baseline of the next one
        diffs = []
        for field in fields:
            old = getattr(before, field.attname) if before is not None else None
            new = getattr(after, field.attname)
            if before is None and (new in (None, "", False) or new == field.get_default()):
                continue  # at creation, only what was filled in
            if old != new:
                diffs.append((str(field.verbose_name), shown(field, old) if before else "", shown(field, new)))
        if diffs:
            who = (User(first_name=after.who_first, last_name=after.who_last, username=after.who_username).display_name
                   if after.who_username else None)
            label = _("Created") if after.pgh_label == "insert" else _("Changed")
            changes.append(Change(after.pgh_created_at, who or _("system"), label, diffs))
    changes.reverse()
    return changes[:limit]
