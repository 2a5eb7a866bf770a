"""Reads of customer segments (客户分群): the tenant's saved filters of the customer list, a readable summary of each
filter, and a segment's size and profile over the customers the user sees (customers.selectors.customers
.filtered_customers: the role's visibility applies; an analyst sees aggregates only, no customer is named).

Every bucket of the profile is the count of the customer list with the segment's filter and one more filter
(`Bucket.query`): the "Male" bar is the list with `gender=male` added. The profile is one SQL statement over the
segment's customers (a MATERIALIZED CTE of their features, ORM-built and so scoped to the tenant), kept for ten
minutes per segment version, visibility and day."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django import forms
from django.core.cache import caches
from django.db.models import Case, CharField, QuerySet, Value, When
from django.http import Http404, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.visibility import visibility_for
from analytics.selectors.followups import visibility_key
from club.filters import NOT_A_MEMBER
from club.models import Level
from crm.forms import MAX_ID
from crm.replica import reading_connection
from customers import lifecycle, places
from customers.filters import MAX_AGE, STATE_CHOICES, CustomerFilter, whole_years, years_q
from customers.models import Customer, Segment
from customers.selectors.customers import filtered_customers
from service.filters import SATISFACTION_BANDS, SATISFACTION_CHOICES, UNANSWERED

SEGMENT_LIST_LIMIT = 200
PROFILE_TTL = 600  # seconds
TOP = 10
# what a saved filter never keeps: the list's paging, sort and export format, the builder's own fields
NOT_FILTERS = frozenset({"after", "sort", "format", "from_customers", "csrfmiddlewaretoken", "name", "description",
                         "preview", "save", "segment"})


# --- the list ----------------------------------------------------------------------------------------------------


def segment_list(*, q: str = "") -> list[Segment]:
    rows = Segment.objects.select_related("created_by__user").order_by("name")
    q = q.strip()[:100]
    if q:
        rows = rows.filter(name__icontains=q)
    return list(rows[:SEGMENT_LIST_LIMIT])


def segment_for(pk: int) -> Segment:
    """A segment of the tenant (another tenant's, or none, is a 404)."""
    segment = (Segment.objects.select_related("created_by__user").filter(pk=pk).first()
               if 0 < pk <= MAX_ID else None)
    if segment is None:
        raise Http404
    return segment


def segment_query(params) -> str:
    """The customer list's query string a segment saves: the filters and the search, without paging, sort,
    export format, the builder's own fields and empty values."""
    kept = QueryDict(mutable=True)
    for key, values in params.lists():
        if key in NOT_FILTERS:
            continue
        values = [value.strip() for value in values if value and value.strip()]
        if values:
            kept.setlist(key, values)
    return kept.urlencode()


# --- a readable summary of a filter ------------------------------------------------------------------------------


class FilterLabels:
    """The customer filter's field labels and choice labels, read once (the choices of owners, tags, teams and
    club levels are queries) and applied to any number of saved filters."""

    def __init__(self, request):
        self.form = CustomerFilter(None, queryset=Customer.objects.none(), request=request).form
        self.choices = {name: {str(k): str(v) for k, v in getattr(f, "choices", [])}
                        for name, f in self.form.fields.items() if hasattr(f, "choices")}

    def summary(self, query: str) -> list[tuple[str, str]]:
        """[(label, chosen values)] of a saved filter, in the form's order; never a raw id."""
        data = QueryDict(query)
        parts = []
        search = data.get("q", "").strip()
        if search:
            parts.append((gettext("Search"), search))
        for name, form_field in self.form.fields.items():
            raw = form_field.widget.value_from_datadict(data, {}, name)
            shown = self._shown(name, form_field, raw)
            if shown:
                parts.append((str(form_field.label), shown))
        return parts

    def _shown(self, name, field, raw) -> str:
        if isinstance(field, forms.MultiValueField):  # a range: [from, to]
            low, high = (list(raw or []) + [None, None])[:2]
            low, high = (_readable(low) if low else ""), (_readable(high) if high else "")
            if low and high:
                return f"{low}–{high}"
            if low:
                return gettext("from %(value)s") % {"value": low}
            if high:
                return gettext("up to %(value)s") % {"value": high}
            return ""
        if name in self.choices:
            values = raw if isinstance(raw, list | tuple) else [raw]
            labels = [self.choices[name].get(str(v), gettext("(no longer available)")) for v in values if v]
            return ", ".join(labels)
        if isinstance(raw, list | tuple):
            raw = ", ".join(str(v) for v in raw if v)
        return str(raw or "").strip()


def _readable(value: str) -> str:
    """A date of a range as the user's locale writes it; a number as typed."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date_format(datetime.strptime(value, "%Y-%m-%d").date(), "SHORT_DATE_FORMAT")
        except ValueError:
            return value
    return value


# --- size and profile --------------------------------------------------------------------------------------------


AGE_BANDS = [  # (key, label, from, to): the customer list's age_min / age_max
    ("u25", _("Under 25"), None, 24), ("25", "25–34", 25, 34), ("35", "35–44", 35, 44), ("45", "45–54", 45, 54),
    ("55", "55–64", 55, 64), ("65", "65+", 65, None),
]
UNKNOWN = ""


@dataclass
class Bucket:
    label: str
    count: int
    url: str | None  # the customer list with the segment's filter and this bucket's: the same count


@dataclass
class Dimension:
    id: str
    title: str
    buckets: list[Bucket]

    @property
    def chart(self) -> dict:
        return {"type": "bar", "labels": [b.label for b in self.buckets],
                "series": [{"label": gettext("Customers"), "data": [b.count for b in self.buckets]}]}


@dataclass
class Profile:
    valid: bool
    size: int = 0
    spend_total: Decimal = Decimal(0)
    dimensions: list[Dimension] = field(default_factory=list)
    computed_at: datetime | None = None
    list_url: str = ""
    pending: bool = False  # not computed yet: the page fetches it (a large segment takes seconds)

    @property
    def spend_average(self) -> Decimal | None:
        return (self.spend_total / self.size).quantize(Decimal("0.01")) if self.size else None


def _links(segment_query_: str, filterset: CustomerFilter):
    """Functions giving the customer list's URL of a bucket: the segment's filter with one more condition, or None
    when the segment's own filter excludes the bucket (its count is then 0)."""
    base = QueryDict(segment_query_)
    list_url = reverse("customers:list")

    def url(params: QueryDict) -> str:
        return f"{list_url}?{params.urlencode()}"

    def choice(name: str, key: str) -> str | None:
        chosen = base.getlist(name)
        if chosen and key not in chosen:
            return None
        params = base.copy()
        params.setlist(name, [key])
        return url(params)

    def age(low: int | None, high: int | None) -> str | None:
        value = filterset.form.cleaned_data.get("age")
        own_low, own_high = whole_years(value, MAX_AGE)  # the segment's own age range, as the filter reads it
        if own_low is not None:
            low = max(low or 0, own_low)
        if own_high is not None:
            high = own_high if high is None else min(high, own_high)
        if low is not None and high is not None and low > high:
            return None
        params = base.copy()
        for key, bound in (("age_min", low), ("age_max", high)):
            params.pop(key, None)
            if bound is not None:
                params[key] = str(bound)
        return url(params)

    def text(name: str, value: str) -> str:
        params = base.copy()
        params[name] = value
        return url(params)

    return choice, age, text, url(base)


def _features(queryset: QuerySet, today) -> QuerySet:
    """One row per customer of the segment with what is read off the customer row (the same expressions as the
    filters); the rest of the profile is joined set-based in _profile_rows."""
    # under 25 = the list's age_max=24 (customers.filters.years_q): bands tried youngest first
    age = Case(When(birthday__isnull=True, then=Value(UNKNOWN)),
               *(When(years_q("birthday", None, high, today), then=Value(key))
                 for key, _l, _low, high in AGE_BANDS if high),
               default=Value(AGE_BANDS[-1][0]), output_field=CharField())
    return (Customer.objects.filter(pk__in=queryset.order_by().values("pk")).order_by()
            .annotate(seg_age=age, seg_city=places.city_expression())
            .values("id", "gender", "tier", "seg_age", "seg_city"))


# The segment's customers once (seg, each once), then what the profile groups by, each joined to seg so that the
# planner probes the indexes by customer for a small segment and hashes whole tables for a large one: their spend
# (as the spend filter: purchases and visits less cancelled ones), their active membership's level, their latest
# "would recommend" answer (as service.filters.latest_recommend) and their lifecycle state (customers.lifecycle).
# A vehicle model's bar counts the customers with a vehicle whose model contains its name, as the list's
# vehicle_model filter finds them: each distinct model name is matched once, not each vehicle.
PROFILE_SQL = """
WITH seg AS MATERIALIZED ({features}),
spend AS (
  SELECT customer_id, sum(amount) AS spend FROM (
      SELECT p.customer_id, p.amount FROM customers_purchase p JOIN seg ON seg.id = p.customer_id
       WHERE p.tenant_id = %(tenant)s AND p.cancelled_at IS NULL
      UNION ALL
      SELECT v.customer_id, v.amount FROM customers_servicevisit v JOIN seg ON seg.id = v.customer_id
       WHERE v.tenant_id = %(tenant)s AND v.cancelled_at IS NULL) AS paid
   GROUP BY customer_id),
level AS (
  SELECT m.customer_id, m.level_id FROM club_member m JOIN seg ON seg.id = m.customer_id
   WHERE m.tenant_id = %(tenant)s AND m.status = 'active'),
answer AS (
  SELECT DISTINCT ON (i.customer_id) i.customer_id, r.recommend
    FROM service_surveyinvitation i
    JOIN seg ON seg.id = i.customer_id
    JOIN service_surveyresponse r ON r.tenant_id = i.tenant_id AND r.invitation_id = i.id
   WHERE i.tenant_id = %(tenant)s AND r.submitted_at IS NOT NULL AND r.recommend IS NOT NULL
   ORDER BY i.customer_id, r.submitted_at DESC),
state AS ({states}),
feat AS MATERIALIZED (
  SELECT seg.*, level.level_id AS seg_level, answer.recommend AS seg_recommend,
         COALESCE(spend.spend, 0) AS seg_spend, COALESCE(state.state, 'none') AS seg_state
    FROM seg
    LEFT JOIN spend ON spend.customer_id = seg.id
    LEFT JOIN level ON level.customer_id = seg.id
    LEFT JOIN answer ON answer.customer_id = seg.id
    LEFT JOIN state ON state.customer_id = seg.id),
cars AS MATERIALIZED (
  SELECT v.customer_id, v.model_name FROM customers_vehicle v JOIN seg ON seg.id = v.customer_id
   WHERE v.tenant_id = %(tenant)s),
names AS MATERIALIZED (SELECT DISTINCT model_name FROM cars),
top AS (
  SELECT min(btrim(model_name)) AS label FROM cars WHERE btrim(model_name) <> ''
   GROUP BY lower(btrim(model_name)) ORDER BY count(DISTINCT customer_id) DESC, 1 LIMIT {top}),
matches AS (SELECT top.label, names.model_name FROM top JOIN names ON upper(names.model_name::text) LIKE {like})
SELECT 'gender', gender, count(*), NULL::numeric FROM feat GROUP BY 2
UNION ALL SELECT 'age', seg_age, count(*), NULL FROM feat GROUP BY 2
UNION ALL SELECT 'tier', tier, count(*), NULL FROM feat GROUP BY 2
UNION ALL SELECT 'state', seg_state, count(*), NULL FROM feat GROUP BY 2
UNION ALL SELECT 'club', COALESCE(seg_level::text, '{not_a_member}'), count(*), NULL FROM feat GROUP BY 2
UNION ALL SELECT 'satisfaction', CASE WHEN seg_recommend IS NULL THEN '{unanswered}' {bands} ELSE '' END, count(*),
                 NULL FROM feat GROUP BY 2
UNION ALL SELECT 'city', COALESCE(seg_city, ''), count(*), NULL FROM feat GROUP BY 2
UNION ALL SELECT 'total', '', count(*), COALESCE(sum(seg_spend), 0) FROM feat
UNION ALL SELECT 'vehicle', matches.label, count(DISTINCT cars.customer_id), NULL
  FROM matches JOIN cars ON cars.model_name = matches.model_name
 GROUP BY matches.label"""


def _profile_rows(queryset: QuerySet, tenant) -> list[tuple[str, str, int, Decimal | None]]:
    """(dimension, key, customers, spend) of the segment's customers: one statement."""
    today = tenant.today()
    fsql, fparams = _features(queryset, today).query.sql_with_params()
    named = {**lifecycle.states_params(lifecycle.windows_for(tenant.pk), today, tenant.pk), "tenant": tenant.pk}
    bands = " ".join(f"WHEN seg_recommend BETWEEN {int(low)} AND {int(high)} THEN '{key}'"
                     for key, (low, high) in SATISFACTION_BANDS.items())
    # a vehicle model's customers as the list's vehicle_model filter finds them: UPPER(model) LIKE UPPER('%x%'),
    # `x` escaped as Django escapes a `contains` value
    like = r"""'%%' || upper(replace(replace(replace(top.label, '\', '\\'), '%%', '\%%'), '_', '\_')) || '%%'"""
    sql = PROFILE_SQL.format(features="{features}", states=lifecycle.states_sql("seg"), top=TOP,
                             not_a_member=NOT_A_MEMBER, unanswered=UNANSWERED, bands=bands, like=like)
    head, tail = sql.split("{features}")  # the features' own positional parameters go where they stand
    head_sql, head_params = lifecycle.positional(head, named)
    tail_sql, tail_params = lifecycle.positional(tail, named)
    with reading_connection().cursor() as cursor:
        cursor.execute(head_sql + fsql + tail_sql, [*head_params, *fparams, *tail_params])
        return [(dim, key or "", int(n), spend) for dim, key, n, spend in cursor.fetchall()]


def _cache_key(segment: Segment, user, tenant) -> str:
    v = visibility_for(user)
    parts = "|".join([str(tenant.pk), str(segment.pk), segment.updated_at.isoformat(), visibility_key(user),
                      "masked" if v.reads_all_masked else "", tenant.today().isoformat()])
    return f"segment-profile:{hashlib.sha1(parts.encode(), usedforsecurity=False).hexdigest()}"


def segment_profile(segment: Segment, user, *, request, lazy_from: int | None = None) -> Profile:
    """The segment's size and profile over the customers `user` sees. With `lazy_from`, a profile not computed yet
    of a segment of that many customers or more comes back `pending` with its size only (one count), for the
    page to fetch it without holding up the rest."""
    filterset, queryset, _sort = filtered_customers(user, QueryDict(segment.query), request=request)
    if not filterset.is_valid():
        return Profile(valid=False)
    tenant = request.tenant
    cache = caches["default"]
    key = _cache_key(segment, user, tenant)
    cached = cache.get(key)
    if cached is None and lazy_from is not None:
        size = queryset.count()
        if size >= lazy_from:
            return Profile(valid=True, size=size, pending=True, list_url=_links(segment.query, filterset)[3])
    if cached is None:
        cached = {"rows": _profile_rows(queryset, tenant), "at": timezone.now()}
        cache.set(key, cached, PROFILE_TTL)
    return _profile(segment.query, filterset, cached["rows"], cached["at"])


def _profile(query: str, filterset: CustomerFilter, rows, computed_at) -> Profile:
    choice, age, text, list_url = _links(query, filterset)
    counts: dict[str, dict[str, int]] = {}
    size, spend = 0, Decimal(0)
    for dim, key, n, total in rows:
        if dim == "total":
            size, spend = n, Decimal(total or 0)
        else:
            counts.setdefault(dim, {})[key] = n

    def by_choices(dim, choices, *, param=None, extra=()):
        got = counts.get(dim, {})
        buckets = [Bucket(str(label), got.get(str(key), 0),
                          choice(param or dim, str(key)) if param is not False and got.get(str(key)) else None)
                   for key, label in choices]
        buckets += [Bucket(str(label), got.get(key, 0), None) for key, label in extra if got.get(key)]
        return buckets

    dims = [
        Dimension("segment-gender", gettext("Gender"),
                  by_choices("gender", Customer.Gender.choices, extra=[(UNKNOWN, _("Not given"))])),
        Dimension("segment-age", gettext("Age"), [
            Bucket(str(label), counts.get("age", {}).get(key, 0),
                   age(low, high) if counts.get("age", {}).get(key) else None)
            for key, label, low, high in AGE_BANDS] + [
            Bucket(gettext("Birthday unknown"), counts.get("age", {}).get(UNKNOWN, 0), None)]),
        Dimension("segment-tier", gettext("Tier"), by_choices("tier", Customer.Tier.choices)),
        Dimension("segment-state", gettext("Lifecycle state (retention)"),
                  by_choices("state", STATE_CHOICES, extra=[(lifecycle.NONE, _("Not a customer yet"))])),
        Dimension("segment-club", gettext("Club level"), by_choices(
            "club", [*((str(pk), name) for pk, name in Level.objects.order_by("rank").values_list("pk", "name")),
                     (NOT_A_MEMBER, _("Not a member"))], param="club_level")),
        Dimension("segment-satisfaction", gettext("Satisfaction (latest “would recommend” answer)"),
                  by_choices("satisfaction", SATISFACTION_CHOICES, extra=[(UNKNOWN, _("Other answer"))])),
    ]
    cities = sorted(((k, n) for k, n in counts.get("city", {}).items() if k), key=lambda kn: (-kn[1], kn[0]))[:TOP]
    other = size - sum(n for _k, n in cities)
    dims.append(Dimension("segment-city", gettext("Cities (top %(n)s)") % {"n": TOP},
                          [Bucket(k, n, text("city", k)) for k, n in cities]
                          + ([Bucket(gettext("Other or unknown"), other, None)] if other else [])))
    vehicle_linked = not (filterset.form.cleaned_data.get("vehicle_model") or filterset.form.cleaned_data.get(
        "vehicle_age"))  # the list's vehicle filters apply to one vehicle: another model's bar would not match
    models_ = sorted(counts.get("vehicle", {}).items(), key=lambda kn: (-kn[1], kn[0]))
    dims.append(Dimension("segment-vehicle", gettext("Vehicle models (top %(n)s, customers with one)") % {"n": TOP},
                          [Bucket(k, n, text("vehicle_model", k) if vehicle_linked else None) for k, n in models_]))
    return Profile(valid=True, size=size, spend_total=spend, dimensions=dims, computed_at=computed_at,
                   list_url=list_url)

