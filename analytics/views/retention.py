"""The churn and retention report (客户流失率/保有率) and its win-back campaign button."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from analytics.selectors.retention import retention_report
from crm.access import staff_view
from crm.replica import reads_replica
from customers.selectors.customers import filtered_customer_count
from service.services.plans import winback_campaign_create, winback_filter

REPORT_PERM = "analytics.view_retention_report"


@staff_view(perm=REPORT_PERM)
@require_GET
@reads_replica
def retention_report_page(request):
    report = retention_report(request.user, request.GET, tenant=request.tenant)
    can_winback = request.user.has_perm("service.add_followupplan") and winback_filter(request.user) is not None
    return render(request, "analytics/retention/report.html",
                  {"report": report, "form": report.filterset.form, "can_winback": can_winback})


@staff_view(perm="service.add_followupplan")
@require_http_methods(["GET", "POST"])
def winback_campaign(request):
    """One step from the retention page's button (POST): a follow-up campaign over the customers on thin ice the
    user sees, then the plan to review. GET: what the button does, and the button."""
    query = winback_filter(request.user)
    if request.method == "POST":
        try:
            plan = winback_campaign_create(tenant=request.tenant, user=request.user)
        except ValidationError as error:
            messages.error(request, error.messages[0])
            return redirect("analytics:retention")
        count = filtered_customer_count(plan.customer_filter)
        messages.success(request, _("Win-back campaign %(plan)s started for %(count)s customers on thin ice: their "
                                    "calls are due today.") % {"plan": plan.name, "count": count})
        return redirect("service:plan_edit", pk=plan.pk)
    list_url = f"{reverse('customers:list')}?{query}" if query is not None else None
    return render(request, "analytics/retention/winback.html", {"list_url": list_url})
