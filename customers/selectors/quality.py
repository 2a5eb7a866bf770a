"""Reads for data quality: one customer's completeness, the "missing data" worklist, where a merged
customer went, and the merges on the customer timeline."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.apps import apps
from django.core import signing
from django.core.exceptions import FieldDoesNotExist
from django.db.models import BooleanField, F, Q, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.http import Http404
from django.utils.translation import gettext

from accounts.models import Staff
from accounts.visibility import visibility_for, visible
from crm.paging import capped_count, keyset_after
from crm.prepared import Prepared
from customers import timeline
from customers.completeness import met_case_sql, requirement_sql, score
from customers.filters import MissingDataFilter
from customers.models import CompletenessRule, Customer
from customers.relations import customer_relations
from customers.selectors.customers import customers_visible_to

Requirement = CompletenessRule.Requirement
REQUIREMENT_LABELS = dict(Requirement.choices)
# where a user completes what is missing: the profile form, or the page that adds the missing thing
FIX_URL = {Requirement.VEHICLE: "customers:vehicle_add", Requirement.PURCHASE: "customers:purchase_add"}


@dataclass
class Missing:
    key: str
    label: str
    url_name: str = "customers:edit"


@dataclass
class Completeness:
    score: int
    missing: list[Missing] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing


def _stage_rules(customer, tenant, stage):
    rule_table = CompletenessRule._meta.db_table
    met = RawSQL(f'(SELECT {met_case_sql(f"{_quote(rule_table)}.requirement", "c")} '
                 f"FROM {_quote(Customer._meta.db_table)} c WHERE c.id = %s)", [customer],
                 output_field=BooleanField())
    return (CompletenessRule.objects.filter(stage=stage).annotate(met=met)
            .order_by("-weight", "requirement").values_list("requirement", "weight", "met"))


_RULES = Prepared("customer_completeness", _stage_rules, types={"stage": str})


def completeness_for(customer) -> Completeness | None:
    """The customer's score and what is missing, or None when the tenant set no rule for their stage
    (one prepared query: the stage's rules, each with whether the customer meets it)."""
    rules = _RULES.rows(customer=customer.pk, tenant=customer.tenant_id, stage=customer.stage)
    if not rules:
        return None
    total = sum(weight for _req, weight, _met in rules)
    achieved = sum(weight for _req, weight, met in rules if met)
    missing = [Missing(req, REQUIREMENT_LABELS.get(req, req), FIX_URL.get(req, "customers:edit"))
               for req, _weight, met in rules if not met]
    return Completeness(score(achieved, total), missing)


def _quote(name: str) -> str:
    from django.db import connection

    return connection.ops.quote_name(name)


# --- the "missing data" worklist -----------------------------------------------------------------

PAGE_SIZE = 50
CURSOR_SALT = "customers.missing"


@dataclass
class MissingRow:
    customer: Customer
    missing: list[Missing]
    can_edit: bool


@dataclass
class MissingList:
    filterset: MissingDataFilter
    rows: list[MissingRow]
    next_cursor: str | None
    is_first: bool
    count: int | None
    count_capped: bool
    has_rules: bool


def default_owner(user) -> str:
    """A specialist starts with their own customers; managers, directors and analysts with all they see."""
    v = visibility_for(user)
    staff = getattr(user, "staff", None)
    if staff is not None and not v.everything and not v.reads_all_masked and v.staff_ids <= {staff.pk}:
        return "me"
    return "all"


def _owner_branches(user, owner: str) -> tuple[list[tuple[Q, bool]], Q | None]:
    """The worklist is read per owner, each branch an ordered scan of the (tenant, owner, completeness,
    id) index, merged by PostgreSQL (Merge Append) and stopped after a page. The branches ARE the
    user's visibility (accounts.visibility.visible, spelled out per owner: an OR over owners would
    make PostgreSQL read every matching row and sort them). Returns ([(condition, is a team queue)],
    the same as one condition for counting — None when it is the whole tenant)."""
    v = visibility_for(user)
    reads_all = v.everything or v.reads_all_masked
    staff = getattr(user, "staff", None)

    def mine(pk: int) -> bool:
        return reads_all or pk in v.staff_ids

    queue = (Q(owner__isnull=True) if reads_all
             else Q(owner__isnull=True, department__in=sorted(v.queue_department_ids)) if v.queue_department_ids
             else None)
    if owner == "me":
        owners, queues = ([staff.pk] if staff is not None and mine(staff.pk) else []), []
    elif owner == "queue":
        owners, queues = [], [queue] if queue is not None else []
    elif owner not in ("all", ""):
        owners, queues = ([int(owner)] if mine(int(owner)) else []), []  # a choice of the filter form
    else:
        # every staff member of the tenant for those who read it all (those who left too: they may
        # still own customers), else the staff whose records the user may see
        owners = list(Staff.objects.order_by("pk").values_list("pk", flat=True)) if reads_all else sorted(v.staff_ids)
        queues = [queue] if queue is not None else []
        if reads_all:
            return [(Q(owner=pk), False) for pk in owners] + [(q, True) for q in queues], None
    branches = [(Q(owner=pk), False) for pk in owners] + [(q, True) for q in queues]
    condition = Q(owner__in=owners) if owners else Q(pk__in=[])
    for extra in queues:
        condition |= extra
    return branches, condition


def _cursor_values(cursor: str | None):
    if not cursor:
        return None
    try:
        values = signing.loads(cursor, salt=CURSOR_SALT)
    except signing.BadSignature:
        return None
    if isinstance(values, list) and len(values) == 2 and all(isinstance(v, int) for v in values):
        return values
    return None


def missing_data_list(user, params) -> MissingList:
    """Customers the user sees whose record is less than complete, least complete first (then oldest
    id), keyset-paged. Runs the same queries for 1 or 50 rows: the rules, one UNION of per-owner index
    scans for the page's ids, the page's rows with what each misses, a capped count (unfiltered)."""
    params = params.copy()
    if not params.get("owner"):
        params["owner"] = default_owner(user)
    rules_by_stage: dict[str, list[tuple[str, int]]] = {}
    for stage, requirement, weight in (CompletenessRule.objects.order_by("stage", "-weight", "requirement")
                                       .values_list("stage", "requirement", "weight")):
        rules_by_stage.setdefault(stage, []).append((requirement, weight))
    # visibility is applied by the owner branches below
    base = Customer.objects.filter(is_active=True, completeness__lt=100)
    filterset = MissingDataFilter(params, queryset=base, user=user, rules_by_stage=rules_by_stage)
    empty = MissingList(filterset, [], None, True, 0, False, bool(rules_by_stage))
    if not filterset.is_valid():
        return empty
    queryset = filterset.qs
    branches, condition = _owner_branches(user, filterset.form.cleaned_data.get("owner") or "all")
    if not branches:
        return empty
    after = _cursor_values(params.get("after"))
    order = ("completeness", "pk")
    parts = []
    for branch, queue in branches:
        part = queryset.filter(branch)
        if after is not None:
            part = part.filter(keyset_after(("completeness", "id"), after))
        # "owner IS NULL" does not tell PostgreSQL that the index is then in (completeness, id) order
        # (an equality would); ordering by the owner too lets the branch read the index in order
        part = part.order_by("owner_id", *order) if queue else part.order_by(*order)
        parts.append(part.values_list("completeness", "pk")[: PAGE_SIZE + 1])
    union = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    keys = list(union.order_by("completeness", "pk")[: PAGE_SIZE + 1]) if len(parts) > 1 else list(union)
    next_cursor = None
    if len(keys) > PAGE_SIZE:
        keys = keys[:PAGE_SIZE]
        next_cursor = signing.dumps(list(keys[-1]), salt=CURSOR_SALT)
    rows = _rows([pk for _c, pk in keys], rules_by_stage, user)
    # counting to the cap is cheap along the owner index; with a stage or requirement filter it could
    # read the whole tenant, so the filtered list shows its pages without a count
    filtered = any(filterset.form.cleaned_data.get(name) for name in ("stage", "missing"))
    count, capped = (None, False) if filtered else capped_count(queryset.filter(condition) if condition else queryset)
    return MissingList(filterset, rows, next_cursor, after is None, count, capped, bool(rules_by_stage))


def _rows(ids: list[int], rules_by_stage, user) -> list[MissingRow]:
    if not ids:
        return []
    requirements = sorted({req for rules in rules_by_stage.values() for req, _w in rules})
    met = {f"met_{req}": RawSQL(requirement_sql(req), [], output_field=BooleanField()) for req in requirements}
    customers = {c.pk: c for c in Customer.objects.filter(pk__in=ids).select_related("owner__user", "department")
                 .annotate(**met)}
    v = visibility_for(user)
    may_change = user.has_perm("customers.change_customer")
    rows = []
    for pk in ids:
        customer = customers.get(pk)
        if customer is None:
            continue
        customer.masked = v.is_masked(customer.owner_id, customer.department_id)
        missing = [Missing(req, REQUIREMENT_LABELS.get(req, req), FIX_URL.get(req, "customers:edit"))
                   for req, _weight in rules_by_stage.get(customer.stage, [])
                   if not getattr(customer, f"met_{req}")]
        rows.append(MissingRow(customer, missing, may_change and not customer.masked))
    return rows


# --- merged customers ----------------------------------------------------------------------------


def survivor_for(user, pk: int) -> Customer:
    """The customer a merged customer `pk` went into, when the user could see the merged record and
    sees the survivor; Http404 otherwise (as for any customer they may not open)."""
    merged = (visible(Customer.objects.filter(pk=pk, is_active=False, merged_into__isnull=False), user,
                      owner="owner", department="department")
              .values_list("merged_into", flat=True).first())
    if merged is None:
        raise Http404
    survivor = customers_visible_to(user).filter(pk=merged).first()
    if survivor is None:
        raise Http404
    return survivor


def attached_counts(survivor: Customer, merged: Customer) -> list[tuple[str, int, int]]:
    """(what, survivor's count, merged customer's count) for every kind of row a merge moves."""
    from django.db.models import Count

    counts = []
    for model, fk in customer_relations():
        per = dict(model._default_manager.filter(**{f"{fk.name}__in": [survivor.pk, merged.pk]})
                   .values_list(fk.name).annotate(n=Count("pk")).order_by().values_list(fk.name, "n"))
        if per:
            counts.append((_relation_label(model, fk.name), per.get(survivor.pk, 0), per.get(merged.pk, 0)))
    return counts


def _relation_label(model, field_name: str, count: int = 2) -> str:
    name = str(model._meta.verbose_name if count == 1 else model._meta.verbose_name_plural)
    relation = model._meta.get_field(field_name)
    if field_name != "customer" and relation.related_model is Customer:
        name = f"{name} ({relation.verbose_name})"
    return name


# --- merges on the timeline ----------------------------------------------------------------------


def moved_summary(moved: dict) -> str:
    """"2 vehicles · 1 purchase" from a CustomerMerge.moved ({"customers.vehicle.customer": 2, …})."""
    parts = []
    for key, count in sorted(moved.items()):
        if not count:
            continue
        label, _sep, field_name = key.rpartition(".")
        try:
            name = _relation_label(apps.get_model(label), field_name, count)
        except (LookupError, ValueError, FieldDoesNotExist):  # a model removed since: show its label
            name = key
        parts.append(f"{count} {name}")
    return " · ".join(parts)


def _merge_entry(row: timeline.Row) -> timeline.Entry:
    try:
        moved = json.loads(row.detail) if row.detail else {}
    except ValueError:
        moved = {}
    detail = moved_summary(moved) if isinstance(moved, dict) else ""
    title = gettext("Merged with %(name)s") % {"name": row.title}
    return timeline.Entry(row.when, "merge", title, gettext("Moved here: %(what)s") % {"what": detail}
                          if detail else "", row.who)


TIMELINE_SOURCES = (timeline.Source(  # registered in CustomersConfig.ready()
    "merge",
    lambda customer: customer.merges.annotate(**timeline.columns(
        "merge", at="created_at", title=F("merged__name"), detail=Cast("moved", TextField()),
        staff="merged_by_id")),
    _merge_entry,
),)
