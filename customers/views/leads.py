"""Lead pages (集客登记): list with the ageing view, register, the lead's page with its history, move,
assign, take, win, and the import of online-platform leads."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crm.access import staff_view
from crm.forms import apply_errors
from crm.spreadsheets import read_sheet
from customers.filters import platforms_in_use
from customers.forms.leads import (
    LeadAssignForm,
    LeadForm,
    LeadImportMapForm,
    LeadImportUploadForm,
    LeadMoveForm,
    LeadTakeForm,
    LeadWinForm,
)
from customers.models import ImportJob, Lead
from customers.models.leads import OPEN_STATUSES
from customers.selectors import leads as selectors
from customers.selectors.customers import openable_customer
from customers.services import lead_imports
from customers.services import leads as services
from customers.services.customers import DuplicateVin
from customers.validators import normalized_or_blank

PREVIEW_ROWS = 100




def _posted(request):
    """The submitted data on POST (even when empty, as for “take”), None on GET."""
    return request.POST if request.method == "POST" else None


def _platforms():
    return sorted(set(services.PLATFORMS) | set(platforms_in_use()))


# --- list -----------------------------------------------------------------------------------------


@staff_view(perm="customers.view_lead")
def lead_list(request):
    result = selectors.lead_list(request.user, request.GET, request=request)
    template = "customers/leads/list.html#results" if request.htmx else "customers/leads/list.html"
    return render(request, template, {
        "result": result, "sorts": selectors.SORTS, "stale_tabs": selectors.STALE_TABS,
        "can_add": request.user.has_perm("customers.add_lead"),
        "can_import": request.user.has_perm("customers.assign_lead"),
    })


# --- register -------------------------------------------------------------------------------------


def _known(request, error: services.KnownMobile) -> dict:
    """What the page may say about the customer or open lead that has the mobile already: a name and a
    link only for records this user may open."""
    return {
        "mobile": (error.customer or error.lead).mobile,
        "customer": error.customer,
        "customer_link": openable_customer(request.user, error.customer, write=True),
        "lead": error.lead,
        "lead_link": selectors.openable_lead(request.user, error.lead),
    }


@staff_view(perm="customers.add_lead")
@require_http_methods(["GET", "POST"])
def lead_create(request):
    form = LeadForm(request.POST or None, user=request.user)
    known = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        confirmed = data["known_mobile"]
        try:
            lead = services.lead_register(
                tenant=request.tenant, staff=request.staff, data=data, assign=data["assign"],
                consultant=data.get("consultant"), department=data["department"],
                known_ok=bool(confirmed) and confirmed == normalized_or_blank(data["mobile"]),
                attach=data["attach"])
            messages.success(request, _("Lead %(name)s registered.") % {"name": lead.name})
            return redirect("leads:detail", pk=lead.pk)
        except services.KnownMobile as error:
            known = _known(request, error)
            post = request.POST.copy()
            post["known_mobile"] = known["mobile"]
            post.setdefault("attach", "on")
            form = LeadForm(post, user=request.user)
            form.is_valid()
        except ValidationError as error:
            apply_errors(form, error)
    referrer_q = request.POST.get("referrer_q", "")
    return render(request, "customers/leads/form.html", {
        "form": form, "known": known, "platforms": _platforms(), "referrer_q": referrer_q,
        "referrer_selected": selectors.referrer_choice(request.user, request.POST.get("referrer")),
        "referrer_options": selectors.referrer_matches(request.user, referrer_q),
    })


@staff_view(perm="customers.add_lead")
def referrer_search(request):
    """Customers to pick as a lead's referrer, as the user types (a fragment for htmx, else a page)."""
    q = request.GET.get("referrer_q", "")
    context = {"referrer_q": q, "referrer_options": selectors.referrer_matches(request.user, q),
               "referrer_selected": selectors.referrer_choice(request.user, request.GET.get("referrer"))}
    template = "customers/leads/form.html#referrers" if request.htmx else "customers/leads/referrers.html"
    return render(request, template, context)


# --- one lead -------------------------------------------------------------------------------------


def _lead_context(request, lead, can_edit) -> dict:
    is_open = lead.status in OPEN_STATUSES
    return {
        "lead": lead, "can_edit": can_edit, "is_open": is_open,
        "can_assign": can_edit and is_open and request.user.has_perm("customers.assign_lead"),
        "can_take": can_edit and is_open and lead.consultant_id is None,
        "customer_link": openable_customer(request.user, lead.customer),
        "referrer_link": openable_customer(request.user, lead.referrer),
    }


@staff_view(perm="customers.view_lead", model=Lead)
def lead_detail(request, pk):
    lead, can_edit = selectors.lead_for(request, pk)
    context = _lead_context(request, lead, can_edit)
    context["events"] = selectors.lead_events(lead)
    if can_edit and context["is_open"]:
        context["move_form"] = LeadMoveForm(lead=lead)
    return render(request, "customers/leads/detail.html", context)


def _action(request, lead, *, title, form=None, save=None, message="", template="customers/leads/action.html",
            extra=None):
    """GET shows the form; POST calls `save(cleaned_data)` and returns to the lead. A closed lead says so."""
    closed = None if lead.status in OPEN_STATUSES else services.lead_closed_error(lead).messages[0]
    if request.method == "POST" and form is not None and form.is_valid() and not closed:
        try:
            save(form.cleaned_data)
            messages.success(request, message)
            return redirect("leads:detail", pk=lead.pk)
        except DuplicateVin as error:
            owner = openable_customer(request.user, error.existing, write=True)
            form.add_error("vin", _("This VIN is already registered to %(name)s.") % {"name": owner.name}
                           if owner else error.messages[0])
        except ValidationError as error:
            apply_errors(form, error)
    return render(request, template, {"lead": lead, "title": title, "form": None if closed else form,
                                      "closed": closed, **(extra or {})})


@staff_view(perm="customers.change_lead", model=Lead)
@require_http_methods(["GET", "POST"])
def lead_move(request, pk):
    lead, _can_edit = selectors.lead_for(request, pk, write=True)
    return _action(request, lead, title=_("Move the lead"), form=LeadMoveForm(_posted(request), lead=lead),
                   message=_("Lead updated."),
                   save=lambda data: services.lead_move(lead=lead, staff=request.staff, **data))


@staff_view(perm="customers.assign_lead", model=Lead)
@require_http_methods(["GET", "POST"])
def lead_assign(request, pk):
    lead, _can_edit = selectors.lead_for(request, pk, write=True)
    form = LeadAssignForm(_posted(request), initial={"assign": services.Assign.CONSULTANT,
                                                         "department": lead.department_id,
                                                         "consultant": lead.consultant_id})
    return _action(request, lead, title=_("Assign the lead"), form=form, message=_("Lead assigned."),
                   save=lambda data: services.lead_assign(lead=lead, staff=request.staff, **data))


@staff_view(perm="customers.change_lead", model=Lead)
@require_http_methods(["GET", "POST"])
def lead_take(request, pk):
    """GET asks to confirm; POST makes the user the lead's consultant."""
    lead, _can_edit = selectors.lead_for(request, pk, write=True)
    form = LeadTakeForm(_posted(request))
    taken = lead.consultant.user.display_name if lead.consultant else None
    return _action(request, lead, title=_("Take the lead"), form=form, message=_("The lead is yours."),
                   save=lambda data: services.lead_take(lead=lead, staff=request.staff),
                   extra={"taken_by": taken})


@staff_view(perm="customers.change_lead", model=Lead)
@require_http_methods(["GET", "POST"])
def lead_win(request, pk):
    lead, _can_edit = selectors.lead_for(request, pk, write=True)
    customer = selectors.customer_of(lead)
    return _action(request, lead, title=_("Won: record the sale"), form=LeadWinForm(_posted(request), lead=lead),
                   message=_("Sale recorded."),
                   save=lambda data: services.lead_win(lead=lead, staff=request.staff, **data),
                   extra={"existing": customer,
                          "existing_link": openable_customer(request.user, customer, write=True)})


# --- import ---------------------------------------------------------------------------------------


def _sheet(job: ImportJob):
    with job.file.open("rb") as handle:
        return read_sheet(handle.read(), job.original_name)


@staff_view(perm="customers.assign_lead")
@require_http_methods(["GET", "POST"])
def lead_import(request):
    """Upload → columns, platform and team (guessed) → preview with per-row errors → import. The file
    waits in an ImportJob of kind “leads” that only its uploader can open (?job=<id>)."""
    job_id = request.POST.get("job") or request.GET.get("job")
    if not job_id:
        return _upload(request)
    job = selectors.lead_import_job_for(request, job_id)
    try:
        sheet = _sheet(job)
    except (ValidationError, OSError) as error:
        messages.error(request, error.messages[0] if isinstance(error, ValidationError)
                       else _("The uploaded file is gone; upload it again."))
        return redirect("leads:import")
    guessed = lead_imports.lead_import_guess_columns(sheet.headers)
    initial = {f"col_{name}": header for name, header in guessed.items()}
    initial["assign"] = services.Assign.ROUND_ROBIN
    form = LeadImportMapForm(request.POST if request.method == "POST" else None, headers=sheet.headers,
                             initial=initial)
    context = {"job": job, "form": form, "platforms": _platforms(), "headers": sheet.headers}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if request.POST.get("action") == "import":
                result = lead_imports.lead_import(job=job, staff=request.staff, headers=sheet.headers, rows=sheet.rows,
                                                  columns=form.columns(), platform=data["platform"],
                                                  department=data["department"], assign=data["assign"])
                return render(request, "customers/leads/import_result.html", {"job": job, "result": result})
            plan = lead_imports.lead_import_plan(tenant=request.tenant, headers=sheet.headers, rows=sheet.rows,
                                                 columns=form.columns(), platform=data["platform"])
            context.update(plan=plan, preview=(plan.rejected + plan.existing + plan.new)[:PREVIEW_ROWS])
        except ValidationError as error:
            apply_errors(form, error)
    return render(request, "customers/leads/import.html", context)


def _upload(request):
    form = LeadImportUploadForm(_posted(request), request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = lead_imports.lead_import_upload(tenant=request.tenant, staff=request.staff, name=upload.name,
                                                  data=upload.read())
        except ValidationError as error:
            form.add_error("file", error.messages)
        else:
            return redirect(f"{reverse('leads:import')}?job={job.pk}")
    return render(request, "customers/leads/import.html", {"upload_form": form})
