"""Who works in the club, and the one way club pages fetch a member.

The club is run by the programme's team (`Programme.department`): its specialists, and the managers of it or of
a department above it, work on members, cards, points, rewards, activities, member services and referrals, as
do directors. Data analysts read all of it with personal data masked. Everyone else sees a customer's level and
balance on the customer page only; the club pages refuse them (403)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.visibility import visibility_for
from club.models import Level, Member, Programme


@dataclass(frozen=True)
class ClubAccess:
    works: bool  # may change club data
    masked: bool  # reads personal data masked (an analyst outside the club team)


def programme_of(tenant) -> Programme:
    """The tenant's programme, made with the defaults the first time it is asked for."""
    programme = Programme.objects.filter(tenant=tenant).first()
    if programme is None:
        programme, _ = Programme.objects.get_or_create(tenant=tenant)
    return programme


def entry_level(tenant) -> Level:
    """The lowest level (rank order), made as 普卡 when the tenant has none yet."""
    level = Level.objects.order_by("rank").first()
    if level is None:
        level, _ = Level.objects.get_or_create(tenant=tenant, rank=0, defaults={"name": "普卡"})
    return level


def club_access(user, tenant) -> ClubAccess | None:
    cached = getattr(user, "_club_access", None)
    if cached is not None:
        return cached or None
    v = visibility_for(user)
    if v.everything:
        result = ClubAccess(works=True, masked=False)
    elif v.runs(programme_of(tenant).department_id):
        result = ClubAccess(works=True, masked=False)
    elif v.reads_all_masked:
        result = ClubAccess(works=False, masked=True)
    else:
        result = None
    user._club_access = result or False
    return result


def require_club(request, *, write: bool = False) -> ClubAccess:
    """The club access of the request's user, or 403 (for a write: unless they work in the club)."""
    access = club_access(request.user, request.tenant)
    if access is None or (write and not access.works):
        raise PermissionDenied
    return access


def member_for(request, pk: int, *, write: bool = False) -> tuple[Member, ClubAccess]:
    """One member of the tenant by id, with the user's club access; another tenant's or a missing member is a
    404, a user outside the club a 403."""
    access = require_club(request, write=write)
    member = Member.objects.select_related("customer", "level").filter(pk=pk).first()
    if member is None:
        raise Http404
    member.tenant = request.tenant  # the request's tenant (the scope guarantees it is the member's): no query
    return member, access
