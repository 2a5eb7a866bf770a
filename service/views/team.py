"""What managers do with follow-ups: the team page (open follow-ups per person and per queue, the list
behind them with filters, bulk reassignment to a person or a queue)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from crm.access import staff_view
from crm.forms import apply_errors
from service.filters import assignable_staff_choices, team_departments
from service.forms.team import FollowUpsReassignForm
from service.selectors.team import TEAM_CAP, team_followups, team_page, team_rows
from service.services.followups import followups_reassign


@staff_view(perm="service.assign_followup")
@require_http_methods(["GET", "POST"])
def team(request):
    """GET: the team's queues and the filtered list. POST: reassign the ticked (or all matching) follow-ups;
    the filter stays in the query string."""
    today = request.tenant.today()
    form = FollowUpsReassignForm(request.POST if request.method == "POST" else None,
                                 staff_choices=assignable_staff_choices(request.user, request.tenant.pk),
                                 departments=team_departments(request.user))
    if request.method == "POST" and form.is_valid():
        _filterset, queryset = team_followups(request.user, request.GET, request=request, today=today)
        if not form.cleaned_data["all_matching"]:
            queryset = queryset.filter(pk__in=form.cleaned_data["ids"])
        try:
            moved = followups_reassign(user=request.user, queryset=queryset, limit=TEAM_CAP,
                                                **form.target())
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, ngettext("%(count)d follow-up reassigned.", "%(count)d follow-ups reassigned.",
                                               moved) % {"count": moved})
            return redirect(f"{request.path}?{request.GET.urlencode()}" if request.GET else request.path)
    filterset, page = team_page(request.user, request.GET, request=request, today=today)
    return render(request, "service/team/team.html", {
        "rows": team_rows(request.user, tenant=request.tenant, today=today), "filter": filterset,
        "page": page, "form": form, "today": today, "cap": TEAM_CAP,
        "query": request.GET.urlencode()})
