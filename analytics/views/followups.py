"""The follow-up report (回访报告) and its export."""


from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from analytics import exports
from analytics.selectors.followups import followup_report as followup_report_for
from crm.access import staff_view
from crm.replica import reads_replica

REPORT_PERM = "analytics.view_followup_report"


@staff_view(perm=REPORT_PERM)
@require_GET
@reads_replica
def followup_report(request):
    report = followup_report_for(request.user, request.GET, tenant=request.tenant)
    return render(request, "analytics/followups/report.html", {"report": report, "form": report.filterset.form})


@staff_view(perm=REPORT_PERM)
@require_GET
@reads_replica
def followup_report_export(request):
    """The per-specialist and per-plan tables as an Excel workbook, with the page's filters."""
    report = followup_report_for(request.user, request.GET, tenant=request.tenant, tables_only=True)
    if not report.valid:  # the page shows what is wrong with the filters
        return redirect(f"{reverse('analytics:followups')}?{request.GET.urlencode()}")
    return exports.FollowupReportExport(report, tenant_name=request.tenant.name).response()
