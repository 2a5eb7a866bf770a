"""The survey results (满意度调查结果) and their export."""


from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from analytics import exports
from analytics.selectors.surveys import survey_report as survey_report_for
from crm.access import staff_view
from crm.replica import reads_replica

REPORT_PERM = "analytics.view_survey_report"


@staff_view(perm=REPORT_PERM)
@require_GET
@reads_replica
def survey_report(request):
    report = survey_report_for(request.user, request.GET, tenant=request.tenant)
    return render(request, "analytics/surveys/report.html", {
        "report": report, "form": report.filterset.form,
        "can_import": request.user.has_perm("analytics.import_manufacturer_results")})


@staff_view(perm=REPORT_PERM)
@require_GET
@reads_replica
def survey_report_export(request):
    """The tables of the page (per month, survey, department, staff member, question) as an Excel workbook."""
    report = survey_report_for(request.user, request.GET, tenant=request.tenant, tables_only=True)
    if not report.valid:  # the page shows what is wrong with the filters
        return redirect(f"{reverse('analytics:surveys')}?{request.GET.urlencode()}")
    return exports.SurveyResultsExport(report, tenant_name=request.tenant.name).response()
