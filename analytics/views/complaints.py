"""The complaint report (投诉报告) and its export."""


from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from analytics import exports
from analytics.selectors.complaints import complaint_report
from crm.access import staff_view
from crm.replica import reads_replica

REPORT_PERM = "service.view_complaint_report"


@staff_view(perm=REPORT_PERM)
@require_GET
@reads_replica
def complaint_report_page(request):
    report = complaint_report(request.user, request.GET, tenant=request.tenant)
    return render(request, "analytics/complaints/report.html", {"report": report, "form": report.filterset.form})


@staff_view(perm=REPORT_PERM)
@require_GET
@reads_replica
def complaint_report_export(request):
    """The tables of the page (per category, owner, channel and month) as an Excel workbook."""
    report = complaint_report(request.user, request.GET, tenant=request.tenant)
    if not report.valid:  # the page shows what is wrong with the filters
        return redirect(f"{reverse('analytics:complaints')}?{request.GET.urlencode()}")
    return exports.ComplaintReportExport(report, tenant_name=request.tenant.name).response()
