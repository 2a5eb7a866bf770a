"""Export of the filtered customer list: confirm → a background job with a progress bar → download.
Only the requester sees and downloads their exports."""

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from crm.access import staff_view
from crm.paging import capped_count
from customers.forms.exports import ExportForm
from customers.models import ExportJob, JobStatus
from customers.selectors import exports as selectors
from customers.services import exports as services


@staff_view(perm="customers.export_customer")
@require_http_methods(["GET", "POST"])
def export_new(request):
    """GET (the list's Export buttons submit its filter form here): what will be exported, to confirm;
    POST: queue the job and follow it."""
    if request.method == "GET" and request.htmx:
        # the list's filter form is an htmx form: load this page itself instead of swapping it in there
        response = HttpResponse()
        response["HX-Redirect"] = request.get_full_path()
        return response
    if request.method == "POST":
        form = ExportForm(request.POST)
        if form.is_valid():
            try:
                job = services.export_request(staff=request.staff, format=form.cleaned_data["format"],
                                              params=QueryDict(form.cleaned_data["params"]))
                return redirect("customers:export_detail", pk=job.pk)
            except ValidationError as error:
                form.add_error(None, error)  # keyed errors go next to their field
        params = QueryDict(form.data.get("params", ""))
    else:
        params = request.GET
        chosen = params.get("format")
        form = ExportForm(initial={"format": chosen if chosen in ExportJob.Format.values else ExportJob.Format.CSV,
                                   "params": selectors.export_params(params)})
    filterset, queryset, _order = selectors.export_queryset(request.user, params, request=request)
    count, capped = capped_count(queryset)
    return render(request, "customers/exports/new.html", {
        "form": form, "count": count, "capped": capped,
        "filters": selectors.describe_filters(filterset, params.get("q", "")),
        "list_query": selectors.export_params(params),
    })


@staff_view(perm="customers.export_customer")
@require_safe
def export_list(request):
    page = selectors.exports_of(request.staff, cursor=request.GET.get("after"))
    return render(request, "customers/exports/list.html", {"page": page})


@staff_view(perm="customers.export_customer", model=ExportJob)
@require_safe
def export_detail(request, pk):
    """The job's page; htmx polls it every second for the progress partial until the job ends."""
    job = selectors.export_for(request, pk)
    template = "customers/exports/detail.html#progress" if request.htmx else "customers/exports/detail.html"
    finished = job.status in (JobStatus.DONE, JobStatus.FAILED)
    if job.status == JobStatus.DONE:
        percent = 100
    else:
        percent = min(100, job.processed_rows * 100 // job.total_rows) if job.total_rows else 0
    return render(request, template, {"job": job, "finished": finished, "percent": percent})


@staff_view(perm="customers.export_customer", model=ExportJob)
@require_safe
def export_download(request, pk):
    job = selectors.export_for(request, pk)
    if job.status != JobStatus.DONE or not job.file:
        return redirect("customers:export_detail", pk=job.pk)
    try:
        handle = job.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(handle, as_attachment=True, filename=services.export_download_name(job),
                            content_type=services.CONTENT_TYPES[job.format])
    response["Cache-Control"] = "private, no-store"
    return response
