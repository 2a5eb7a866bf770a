"""A saved customer filter (a segment's, a campaign's, a one-off survey send's) as seen by who uses it: a director
the whole company's customers it finds, a manager those of the departments they lead (and below). The filter
evaluates over the whole tenant later (customers.selectors.customers.filtered_customer_ids, in a job), so the
user's reach is written into it: the hidden `within` parameter of customers.filters.CustomerFilter."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404, QueryDict

from accounts.models import RoleKind
from accounts.selectors import membership_of
from accounts.visibility import visibility_for
from crm.forms import parse_id
from customers.models import Segment
from customers.selectors.customers import filtered_customer_count

SCOPE_PARAM = "within"


def managed_departments(user) -> list[int]:
    """The departments this user holds a manager's position in (their subtrees are what they see)."""
    return sorted({dept for kind, dept in membership_of(user).positions if kind == RoleKind.MANAGER})


def scoped_customer_filter(user, query: str) -> str | None:
    """`query` as this user may use it: unchanged for a user who sees everything (a director); for a manager the
    query kept to the departments they lead (`within=<pk>` for each, replacing any `within` it had, so it never
    reaches beyond them); None for anyone else (they start no campaign or send over the company's customers)."""
    if visibility_for(user).everything:
        return query
    managed = managed_departments(user)
    if not managed:
        return None
    params = QueryDict(query, mutable=True)
    params.setlist(SCOPE_PARAM, [str(pk) for pk in managed])
    return params.urlencode()


@dataclass
class SegmentUse:
    """A segment about to be used by `user`: its filter as they may use it (None: they may not) and how many
    customers that finds today."""

    segment: Segment
    query: str | None
    count: int


def segment_of_tenant(pk) -> Segment:
    """The tenant's segment `pk` (in the active scope); another tenant's, a missing one or a malformed id is a
    404."""
    segment = Segment.objects.filter(pk=parse_id(pk) or 0).first()
    if segment is None:
        raise Http404
    return segment


def segment_for_use(user, pk) -> SegmentUse:
    """The tenant's segment `pk` (segment_of_tenant) with its filter scoped to `user` and its count."""
    segment = segment_of_tenant(pk)
    query = scoped_customer_filter(user, segment.query)
    return SegmentUse(segment=segment, query=query,
                      count=0 if query is None else filtered_customer_count(query))
