"""Follow-up plans: the list (managers pause and resume plans) and a plan edited in the app."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crm.access import staff_view
from crm.forms import apply_errors
from customers.selectors.saved_filters import segment_for_use
from service.forms.plans import PlanForm
from service.models import FollowUpPlan
from service.models.followups import ContactType
from service.selectors.followups import plans_with_open_counts
from service.services.plans import plan_save, plan_set_active, unique_plan_name

SEGMENT_EXPIRES_DAYS = 14


@staff_view(perm="service.view_followupplan")
@require_http_methods(["GET", "POST"])
def plan_list(request):
    """The tenant's follow-up plans; managers pause and resume them (a paused plan generates nothing; the
    follow-ups it made stay)."""
    can_pause = request.user.has_perm("service.change_followupplan")
    if request.method == "POST" and can_pause:
        try:
            plan = plan_set_active(plan_id=request.POST.get("plan"), active=request.POST.get("active") == "1",
                                            staff=request.staff)
        except ValidationError as error:
            messages.error(request, error.messages[0])
        else:
            messages.success(request, (_("%(plan)s resumed.") if plan.is_active else _("%(plan)s paused."))
                             % {"plan": plan.name})
        return redirect("service:plans")
    return render(request, "service/plans/list.html", {"plans": plans_with_open_counts(),
                                                  "can_pause": can_pause})


@staff_view(perm="service.add_followupplan")
@require_http_methods(["GET", "POST"])
def plan_new(request):
    """A new plan; from the customer list's "Follow-up campaign" button, a campaign over the list's filter; from a
    segment's page (`?segment=<pk>`), a campaign over the segment's customers the user sees."""
    initial = {}
    if "segment" in request.GET:
        use = segment_for_use(request.user, request.GET["segment"])  # another tenant's: a 404
        if use.query is None:
            raise PermissionDenied
        initial = {"trigger": FollowUpPlan.Trigger.CAMPAIGN, "contact_type": ContactType.CARE,
                   "name": unique_plan_name(use.segment.name),
                   "customer_filter": use.query or "q=",  # a segment of everyone: a campaign needs a filter
                   "campaign_on": request.tenant.today(), "expires_days_after": SEGMENT_EXPIRES_DAYS,
                   "assignment": FollowUpPlan.Assignment.OWNER}
        return _plan_form(request, FollowUpPlan(tenant=request.tenant), initial, segment=use)
    if request.method == "GET" and request.GET.get("from_customers"):
        query = request.GET.copy()
        for key in ("from_customers", "after", "sort", "format"):
            query.pop(key, None)
        initial = {"trigger": FollowUpPlan.Trigger.CAMPAIGN, "customer_filter": query.urlencode(),
                   "campaign_on": request.tenant.today(), "expires_days_after": 14}
    return _plan_form(request, FollowUpPlan(tenant=request.tenant), initial)


@staff_view(perm="service.change_followupplan", model=FollowUpPlan)
@require_http_methods(["GET", "POST"])
def plan_edit(request, pk):
    return _plan_form(request, get_object_or_404(FollowUpPlan, pk=pk))  # scoped: another tenant's is a 404


def _plan_form(request, plan, initial=None, segment=None):
    form = PlanForm(request.POST if request.method == "POST" else None, instance=plan, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            plan = plan_save(plan=form.instance, tenant=request.tenant)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Plan %(plan)s saved.") % {"plan": plan.name})
            return redirect("service:plans")
    return render(request, "service/plans/form.html", {"form": form, "plan": plan, "segment": segment})
