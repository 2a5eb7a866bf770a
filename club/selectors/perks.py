"""Reads for member services (会员服务): the requests list and a member's use of their level's quotas."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count
from django.http import Http404

from club.filters import ServiceRequestFilter
from club.models import Member, ServiceQuota, ServiceRequest
from club.models.perks import ServiceKind
from club.selectors.access import ClubAccess
from crm.forms import parse_id
from crm.paging import Page, keyset_page

PAGE_SIZE = 50


@dataclass
class Usage:
    kind: str
    label: str
    used: int
    quota: int  # 0: the level does not include it

    @property
    def left(self) -> int:
        return max(self.quota - self.used, 0)


def quota_usage(member: Member, year: int) -> list[Usage]:
    """Per kind of service: how many of the member's level quota for `year` are used (requests not cancelled)."""
    quotas = dict(ServiceQuota.objects.filter(level_id=member.level_id).values_list("kind", "per_year"))
    used = dict(ServiceRequest.objects.filter(member=member, quota_year=year)
                .exclude(status=ServiceRequest.Status.CANCELLED)
                .values_list("kind").annotate(n=Count("id")).values_list("kind", "n"))
    return [Usage(kind, str(label), used.get(kind, 0), quotas.get(kind, 0)) for kind, label in ServiceKind.choices]


@dataclass
class Listing:
    filter: ServiceRequestFilter
    page: Page


def service_request_page(params, *, access: ClubAccess) -> Listing:
    base = ServiceRequest.objects.all()
    filterset = ServiceRequestFilter(params, queryset=base)
    queryset = filterset.qs if filterset.is_valid() else base.none()
    page = keyset_page(queryset.select_related("member__customer", "member__level", "delivered_by__user",
                                               "requested_by__user"),
                       order=("wanted_on", "id"), cursor=params.get("after"), size=PAGE_SIZE)
    for request in page.rows:
        request.member.customer.masked = access.masked
    return Listing(filter=filterset, page=page)


def service_request_by_id(raw) -> ServiceRequest:
    """A request of the tenant by the id a page sent back; another tenant's or a missing one is a 404."""
    pk = parse_id(raw)
    found = ServiceRequest.objects.select_related("member").filter(pk=pk).first() if pk else None
    if found is None:
        raise Http404
    return found
