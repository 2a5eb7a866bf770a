"""What managers do with follow-ups: the team page (open follow-ups per person and per queue, the list
behind them with filters, bulk reassignment to a person or a queue) and plans edited in the app."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from crm.access import staff_view
from crm.forms import apply_errors
from service import selectors, services
from service.filters import team_departments, team_staff_choices
from service.forms import PlanForm, ReassignForm
from service.generation import tenant_today
from service.models import FollowUpPlan


@staff_view(perm="service.assign_followup")
@require_http_methods(["GET", "POST"])
def team(request):
    """GET: the team's queues and the filtered list. POST: reassign the ticked (or all matching) follow-ups;
    the filter stays in the query string."""
    today = tenant_today(request.tenant)
    form = ReassignForm(request.POST if request.method == "POST" else None,
                        staff_choices=team_staff_choices(request.user, request.tenant.pk),
                        departments=team_departments(request.user))
    if request.method == "POST" and form.is_valid():
        _filterset, queryset = selectors.team_followups(request.user, request.GET, request=request, today=today)
        if not form.cleaned_data["all_matching"]:
            queryset = queryset.filter(pk__in=form.cleaned_data["ids"])
        try:
            moved = services.followups_reassign(user=request.user, queryset=queryset, limit=selectors.TEAM_CAP,
                                                **form.target())
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, ngettext("%(count)d follow-up reassigned.", "%(count)d follow-ups reassigned.",
                                               moved) % {"count": moved})
            return redirect(f"{request.path}?{request.GET.urlencode()}" if request.GET else request.path)
    filterset, page = selectors.team_page(request.user, request.GET, request=request, today=today)
    return render(request, "service/team.html", {
        "rows": selectors.team_rows(request.user, tenant=request.tenant, today=today), "filter": filterset,
        "page": page, "form": form, "today": today, "cap": selectors.TEAM_CAP,
        "query": request.GET.urlencode()})


@staff_view(perm="service.add_followupplan")
@require_http_methods(["GET", "POST"])
def plan_new(request):
    """A new plan; from the customer list's "Follow-up campaign" button, a campaign over the list's filter."""
    initial = {}
    if request.method == "GET" and request.GET.get("from_customers"):
        query = request.GET.copy()
        for key in ("from_customers", "after", "sort", "format"):
            query.pop(key, None)
        initial = {"trigger": FollowUpPlan.Trigger.CAMPAIGN, "customer_filter": query.urlencode(),
                   "campaign_on": tenant_today(request.tenant), "expires_days_after": 14}
    return _plan_form(request, FollowUpPlan(tenant=request.tenant), initial)


@staff_view(perm="service.change_followupplan", model=FollowUpPlan)
@require_http_methods(["GET", "POST"])
def plan_edit(request, pk):
    return _plan_form(request, get_object_or_404(FollowUpPlan, pk=pk))  # scoped: another tenant's is a 404


def _plan_form(request, plan, initial=None):
    form = PlanForm(request.POST if request.method == "POST" else None, instance=plan, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_save(plan=form.instance, tenant=request.tenant)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Plan %(plan)s saved.") % {"plan": plan.name})
            return redirect("service:plans")
    return render(request, "service/plan_form.html", {"form": form, "plan": plan})
