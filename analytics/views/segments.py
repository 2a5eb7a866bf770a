"""Customer segments (客户分群): the list, the builder (new and edit), a segment's size and profile, removal."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from analytics.forms.segments import SegmentForm
from analytics.selectors import segments as selectors
from analytics.services import segments as services
from crm.access import staff_view
from crm.forms import apply_errors
from crm.paging import capped_count
from crm.replica import reads_replica
from customers.models import Segment
from customers.selectors.customers import filtered_customers

VIEW_PERM, ADD_PERM, CHANGE_PERM, DELETE_PERM = (f"customers.{action}_segment"
                                                 for action in ("view", "add", "change", "delete"))


@staff_view(perm=VIEW_PERM)
@require_GET
@reads_replica
def segment_list(request):
    q = request.GET.get("q", "")
    rows = selectors.segment_list(q=q)
    labels = selectors.FilterLabels(request) if rows else None
    return render(request, "analytics/segments/list.html", {
        "segments": [(segment, labels.summary(segment.query)) for segment in rows], "q": q,
        "capped": len(rows) == selectors.SEGMENT_LIST_LIMIT})


def _builder(request, segment=None):
    """New (segment=None) or edit. GET: the filter from the address (the customer list's "Save as segment"
    lands here with it), else the segment's; POST "preview": the size with this filter; POST "save": saved."""
    if request.method == "POST":
        params = request.POST
    elif segment is not None and not set(request.GET) - selectors.NOT_FILTERS:
        params = QueryDict(segment.query)
    else:
        params = request.GET
    initial = ({"name": segment.name, "description": segment.description} if segment is not None
               else {"name": request.GET.get("name", "")})
    form = SegmentForm(request.POST if request.method == "POST" and "save" in request.POST else None,
                       initial=initial)
    if request.method == "POST" and "save" not in request.POST:  # preview: keep what was typed
        form = SegmentForm(initial={"name": request.POST.get("name", ""),
                                    "description": request.POST.get("description", "")})
    filterset, queryset, _sort = filtered_customers(request.user, params, request=request)
    if request.method == "POST" and "save" in request.POST and form.is_valid():
        data = {**form.cleaned_data, "query": selectors.segment_query(params)}
        try:
            if segment is None:
                saved = services.segment_create(tenant=request.tenant, staff=request.staff, **data)
                messages.success(request, _("The segment is saved."))
            else:
                saved = services.segment_update(segment=segment, **data)
                messages.success(request, _("The segment is changed."))
            return redirect("analytics:segment", pk=saved.pk)
        except ValidationError as error:
            apply_errors(form, error)
    size = capped_count(queryset) if filterset.is_valid() else None
    return render(request, "analytics/segments/edit.html", {
        "form": form, "filter_form": filterset.form, "segment": segment, "size": size,
        "q": params.get("q", "")})


@staff_view(perm=ADD_PERM)
@require_http_methods(["GET", "POST"])
def segment_new(request):
    return _builder(request)


@staff_view(perm=CHANGE_PERM, model=Segment)
@require_http_methods(["GET", "POST"])
def segment_edit(request, pk):
    return _builder(request, selectors.segment_for(pk))


# from this many customers a profile not computed yet is fetched after the page (it takes seconds at a million)
LAZY_FROM = 50_000


@staff_view(perm=VIEW_PERM, model=Segment)
@require_GET
@reads_replica
def segment_detail(request, pk):
    """The segment's page. A large segment's profile not computed yet is fetched by the page (htmx, `part=profile`)
    while it shows the size; without JavaScript, `profile=now` computes it with the page."""
    segment = selectors.segment_for(pk)
    part = request.htmx and request.GET.get("part") == "profile"
    now = part or request.GET.get("profile") == "now"
    profile = selectors.segment_profile(segment, request.user, request=request, lazy_from=None if now else LAZY_FROM)
    if part:
        return render(request, "analytics/segments/_profile.html", {"segment": segment, "profile": profile})
    return render(request, "analytics/segments/detail.html", {
        "segment": segment, "profile": profile,
        "summary": selectors.FilterLabels(request).summary(segment.query)})


@staff_view(perm=DELETE_PERM, model=Segment)
@require_http_methods(["GET", "POST"])
def segment_delete(request, pk):
    segment = selectors.segment_for(pk)
    if request.method == "POST":
        services.segment_delete(segment=segment)
        messages.success(request, _("The segment is removed."))
        return redirect("analytics:segments")
    return render(request, "analytics/segments/delete.html", {"segment": segment})
