"""The CRM usage report (系统使用情况): how colleagues use the system."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from analytics.selectors.usage import usage_report
from crm.access import staff_view
from crm.replica import reads_replica

REPORT_PERM = "analytics.view_usage_report"


@staff_view(perm=REPORT_PERM)
@require_GET
@reads_replica
def usage_report_page(request):
    report = usage_report(request.user, request.GET, tenant=request.tenant)
    return render(request, "analytics/usage/report.html", {"report": report, "form": report.filterset.form})
