"""The club operations report (俱乐部运营报告) and its export."""

from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from analytics import exports
from analytics.selectors.club import club_report
from club.selectors.access import require_club
from crm.access import staff_view
from crm.replica import reads_replica

REPORT_PERM = "club.view_club_report"


@staff_view(perm=REPORT_PERM)
@require_GET
@reads_replica
def club_report_page(request):
    require_club(request)  # the club's team, directors and analysts (no personal data, but the club's business)
    report = club_report(request.GET, tenant=request.tenant)
    return render(request, "analytics/club/report.html", {"report": report, "form": report.filterset.form})


@staff_view(perm=REPORT_PERM)
@require_GET
@reads_replica
def club_report_export(request):
    """The figures and tables of the page as an Excel workbook."""
    require_club(request)
    report = club_report(request.GET, tenant=request.tenant)
    if not report.valid:  # the page shows what is wrong with the period
        return redirect(f"{reverse('analytics:club')}?{request.GET.urlencode()}")
    return exports.ClubReportExport(report, tenant_name=request.tenant.name).response()
