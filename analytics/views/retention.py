"""The churn and retention report (客户流失率/保有率) and its win-back campaign button."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from analytics.selectors.retention import retention_report
from crm.access import staff_view
from customers.selectors.customers import filtered_customer_ids
from service.services.plans import winback_campaign_create, winback_filter

REPORT_PERM = "analytics.view_retention_report"


@staff_view(perm=REPORT_PERM)
@require_GET
def retention_report_page(request):
    report = retention_report(request.user, request.GET, tenant=request.tenant)
    can_winback = request.user.has_perm("service.add_followupplan") and winback_filter(request.user) is not None
    return render(request, "analytics/retention/report.html",
                  {"report": report, "form": report.filterset.form, "can_winback": can_winback})


@staff_view(perm="service.add_followupplan")
@require_POST
def winback_campaign(request):
    """One step: a follow-up campaign over the customers on thin ice the user sees, then the plan to review."""
    try:
        plan = winback_campaign_create(tenant=request.tenant, user=request.user)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("analytics:retention")
    count = len(filtered_customer_ids(plan.customer_filter))
    messages.success(request, _("Win-back campaign %(plan)s started for %(count)s customers on thin ice: their calls "
                                "are due today.") % {"plan": plan.name, "count": count})
    return redirect("service:plan_edit", pk=plan.pk)
