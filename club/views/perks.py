"""Member service pages (会员服务): the requests list with its actions, and a new request for a member."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.selectors import active_staff_choices
from club.forms.perks import DoneForm, ScheduleForm, ServiceCancelForm, ServiceRequestForm
from club.models import Member
from club.selectors.access import member_for, require_club
from club.selectors.perks import quota_usage, service_request_by_id, service_request_page
from club.services import perks
from crm.access import staff_view
from crm.forms import apply_errors


@staff_view(perm="club.view_servicerequest")
@require_http_methods(["GET", "POST"])
def service_list(request):
    """Member service requests, the ones not delivered yet first; POST `action=schedule|done|cancel` with
    `request_id` and that action's fields."""
    access = require_club(request, write=request.method == "POST")
    if request.method == "POST":
        if not request.user.has_perm("club.change_servicerequest"):
            raise PermissionDenied
        _service_action(request)
        return redirect(request.get_full_path())
    listing = service_request_page(request.GET, access=access)
    may_work = access.works and request.user.has_perm("club.change_servicerequest")
    return render(request, "club/perks/list.html", {
        "filter": listing.filter, "page": listing.page, "may_work": may_work,
        "staff_choices": active_staff_choices(request.tenant.pk) if may_work and listing.page.rows else []})


ACTIONS = {"schedule": ScheduleForm, "done": DoneForm, "cancel": ServiceCancelForm}
DONE = {"schedule": gettext_lazy("Scheduled."), "done": gettext_lazy("Recorded as delivered."),
        "cancel": gettext_lazy("Cancelled; the quota is free again.")}


def _service_action(request) -> None:
    found = service_request_by_id(request.POST.get("request_id"))
    action = request.POST.get("action")
    if action not in ACTIONS:
        messages.error(request, _("Choose what to do with the request."))
        return
    form = ACTIONS[action](request.POST)
    try:
        if not form.is_valid():
            raise ValidationError([f"{form.fields[name].label}: {error}" for name, errors in form.errors.items()
                                   for error in errors])
        data = form.cleaned_data
        if action == "schedule":
            perks.service_request_schedule(request=found, scheduled_for=data["scheduled_for"], staff=request.staff)
        elif action == "done":
            perks.service_request_done(request=found, delivered_by=data["delivered_by"], staff=request.staff)
        else:
            perks.service_request_cancel(request=found, staff=request.staff, reason=data["reason"])
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, DONE[action])


@staff_view(perm="club.add_servicerequest", model=Member)
@require_http_methods(["GET", "POST"])
def service_new(request, pk):
    """A member's request for a service, with how much of each quota this year is used."""
    member, _access = member_for(request, pk, write=True)
    form = ServiceRequestForm(request.POST or None, initial={"wanted_on": request.tenant.today()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            perks.service_request_create(member=member, kind=data["kind"], wanted_on=data["wanted_on"],
                                         staff=request.staff, note=data["note"])
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Service request recorded."))
            return redirect("club:member", pk=member.pk)
    member.customer.masked = False
    year = request.tenant.today().year
    return render(request, "club/perks/new.html", {
        "member": member, "form": form, "year": year, "usage": quota_usage(member, year)})
