"""Reads for complaints, always through the role's visibility: a complaint belongs to its owner, and an
unowned one to its team's queue; whoever a complaint was escalated to outside their part of the org chart
reads it through their django-guardian grant."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import BigIntegerField, F, QuerySet, TextField, Value
from django.db.models.functions import Cast, Concat
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Staff
from accounts.visibility import WorkSource, visibility_for, visible
from crm.forms import MAX_ID
from crm.paging import Page, capped_count, keyset_page
from customers import timeline
from service.filters import ComplaintFilter
from service.models import Complaint, FollowUp, Severity

Status = Complaint.Status
ORDER = ("-opened_at", "-id")
PAGE_SIZE = 50


def _granted_ids(user, codename: str) -> QuerySet:
    """The ids of the complaints granted to this user (guardian keeps them as text)."""
    from guardian.models import UserObjectPermission

    return (UserObjectPermission.objects
            .filter(user=user, permission__codename=codename,
                    content_type=ContentType.objects.get_for_model(Complaint))
            .annotate(complaint_id=Cast("object_pk", BigIntegerField())).values("complaint_id"))


def complaints_visible_to(user, *, write: bool = False) -> QuerySet:
    """What this user may read (or, with write=True, work on): their role's share plus their grants."""
    base = Complaint.objects.all()
    mine = visible(base, user, owner="owner", department="department", write=write)
    v = visibility_for(user)
    if v.everything or (v.reads_all_masked and not write):
        return mine
    return mine | base.filter(pk__in=_granted_ids(user, "change_complaint" if write else "view_complaint"))


def complaint_for(request, pk: int, *, write: bool = False) -> tuple[Complaint, bool]:
    """The complaint if this user may see it (404 otherwise, also another tenant's) and whether they may work
    on it."""
    queryset = complaints_visible_to(request.user).select_related(
        "customer", "vehicle", "category", "owner__user", "department", "escalated_to__user", "created_by__user",
        "purchase", "visit", "feedback_followup", "survey_response__invitation__survey")
    complaint = queryset.filter(pk=pk).first() if 0 < pk <= MAX_ID else None
    if complaint is None:
        raise Http404
    v = visibility_for(request.user)
    may_write = (request.user.has_perm("service.change_complaint")
                 and complaints_visible_to(request.user, write=True).filter(pk=pk).exists())
    complaint.masked = not may_write and v.is_masked(complaint.owner_id, complaint.department_id)
    complaint.customer.masked = complaint.masked
    if write and not may_write:
        raise Http404
    return complaint, may_write


def feedback_complaints(followup: FollowUp) -> QuerySet:
    """The resolved complaints waiting for this result-feedback call's answer."""
    return Complaint.objects.filter(feedback_followup=followup, status=Status.RESOLVED).order_by("pk")


def staff_with_user(pk: int | None) -> Staff | None:
    """The staff member a complaint goes or is told to, with their user (address, language); None for None."""
    return Staff.objects.select_related("user").get(pk=pk) if pk is not None else None


@dataclass
class Listing:
    filter: ComplaintFilter
    page: Page
    count: int = 0
    count_capped: bool = False


def complaint_page(user, params, *, request) -> Listing:
    base = complaints_visible_to(user)
    filterset = ComplaintFilter(params, queryset=base, request=request)
    queryset = filterset.qs if filterset.is_valid() else base.none()
    page = keyset_page(queryset.select_related("customer", "category", "owner__user", "department",
                                               "escalated_to__user"),
                       order=ORDER, cursor=params.get("after"), size=PAGE_SIZE)
    v = visibility_for(user)
    now = timezone.now()
    masked = {c.pk for c in page.rows if v.is_masked(c.owner_id, c.department_id)}
    if masked and not v.everything:  # complaints granted to work on (escalated to this user) show in full
        masked -= set(_granted_ids(user, "change_complaint").filter(complaint_id__in=masked)
                      .values_list("complaint_id", flat=True))
    for complaint in page.rows:
        complaint.masked = complaint.customer.masked = complaint.pk in masked
        complaint.overdue = complaint.status in Complaint.RUNNING and (
            complaint.resolution_due <= now or (complaint.status == Status.NEW and complaint.response_due <= now))
    count, capped = capped_count(queryset)
    return Listing(filter=filterset, page=page, count=count, count_capped=capped)


# --- the customer timeline ------------------------------------------------------------------------


def _complaint_rows(customer):
    text = TextField()
    return customer.complaints.annotate(**timeline.columns(
        "complaint", at="opened_at",
        title=Concat(Cast("id", text), Value("|", output_field=text), F("summary"), output_field=text),
        detail=Concat(F("status"), Value("|", output_field=text), F("severity"), output_field=text),
        staff="owner_id"))


def _complaint_entry(row: timeline.Row) -> timeline.Entry:
    number, _bar, summary = row.title.partition("|")
    status, _bar, severity = row.detail.partition("|")
    detail = [dict(Status.choices).get(status, status)]
    if severity == Severity.MAJOR:
        detail.append(Severity.MAJOR.label)
    return timeline.Entry(row.when, "complaint", f"{_('Complaint')} #{number} · {summary}",
                          " · ".join(str(x) for x in detail), row.who)


# registered in ServiceConfig.ready()
TIMELINE_SOURCES = (timeline.Source("complaint", _complaint_rows, _complaint_entry),)


# --- access through work: the customers reached through a complaint one works on, until it is closed -------
# On purpose a RESOLVED complaint still gives access: it waits for the customer's confirmation (the owner calls
# them, reopens or closes it), which is part of the work; the customer page says so next to the complaint.

WORK_SOURCE = WorkSource(  # registered in ServiceConfig.ready()
    "complaint", _("complaint"),
    lambda user: complaints_visible_to(user, write=True).exclude(status=Complaint.Status.CLOSED),
    "customer", "service:complaint")
