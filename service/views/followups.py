"""The call workspace (回访): the queue tabs, “next call”, and the call page with the customer summary,
the script, the questionnaire and the outcome. The pages are plain forms and redirects; the templates
boost them with htmx, so moving from one call to the next swaps the page's main part without a reload, and
taking the next call answers htmx with the call page itself (one round trip instead of a redirect)."""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe
from django_htmx.http import push_url

from crm.access import staff_view
from crm.forms import apply_errors, parse_id
from service.forms.calls import CallForm
from service.models import Appointment, FollowUp, QuestionnaireVersion
from service.questionnaires import current_version
from service.rules import first_calling_time, service_settings, within_calling_hours
from service.selectors.appointments import customer_to_book
from service.selectors.complaints import feedback_complaints
from service.selectors.followups import (
    calls_of,
    customer_summary,
    followup_for,
    followup_records,
    questions_of,
)
from service.selectors.followups import (
    workspace as queue_workspace,
)
from service.services.calls import followup_call_record, followup_take_next
from service.views.appointments import book, booked_message, booking_form

RETRY_AFTER = timedelta(hours=2)  # the suggested time to try again


def _calling_hours(request, rules) -> dict:
    return {"calls_from": rules.calls_from, "calls_until": rules.calls_until,
            "around_the_clock": rules.calls_from == rules.calls_until,
            "in_hours": within_calling_hours(request.tenant, rules=rules)}


@staff_view(perm="service.view_followup")
@require_http_methods(["GET", "POST"])
def workspace(request):
    """GET: the queue tabs. POST: take the next call and open it."""
    can_call = request.user.has_perm("service.add_followupcall") and request.staff is not None
    rules = service_settings(request.tenant)
    if request.method == "POST" and can_call:
        followup = followup_take_next(user=request.user, staff=request.staff, tenant=request.tenant, rules=rules)
        if followup is not None:
            return _open_call(request, followup.pk, rules)
        if not within_calling_hours(request.tenant, rules=rules):
            messages.info(request, _("No calls are offered outside the calling hours."))
        else:
            messages.success(request, _("Nothing is due: your queue is empty."))
        return redirect("service:followups")
    ws = queue_workspace(request.user, request.GET, tenant=request.tenant)
    return render(request, "service/followups/workspace.html", {
        "ws": ws, "can_call": can_call, **_calling_hours(request, rules)})


@staff_view(perm="service.view_followup")
@require_safe
def records(request):
    """Every follow-up the user may read, of any status, filtered (the dashboards' tiles link here with their
    filters), with how many match."""
    listing = followup_records(request.user, request.GET, request=request)
    return render(request, "service/followups/records.html", {"records": listing})


def _open_call(request, pk: int, rules) -> HttpResponse:
    """The call page of the follow-up just taken: for htmx, in this response (one round trip, the address
    bar moved to it); otherwise a redirect to it."""
    if not request.htmx:
        return redirect("service:followup", pk=pk)
    return push_url(_call_page(request, pk, posted=False, rules=rules), reverse("service:followup", args=[pk]))


def _version_id(request, followup, posted: bool) -> int | None:
    """The questionnaire version of the form: the one the caller was shown (when it still belongs to the
    plan's questionnaire), else the newest published one."""
    posted = request.POST.get("version") if posted else None
    posted = parse_id(posted)
    if posted and followup.plan.questionnaire_id and QuestionnaireVersion.objects.filter(
            pk=posted, questionnaire_id=followup.plan.questionnaire_id).exists():
        return posted
    version = current_version(followup.plan)
    return version.pk if version else None


@staff_view(perm="service.view_followup", model=FollowUp)
@require_http_methods(["GET", "POST"])
def followup_call(request, pk):
    """One follow-up: the customer summary, the script, the questionnaire and the outcome form. A recorded
    call moves on to the next one."""
    return _call_page(request, pk, posted=request.method == "POST", rules=service_settings(request.tenant))


def _call_page(request, pk: int, *, posted: bool, rules, booking=None) -> HttpResponse:
    """The call page; `posted`: record the call the request's form describes; `booking`: the booking form open
    in the appointment card."""
    followup, can_call = followup_for(request, pk, write=posted)
    version_id = _version_id(request, followup, posted)
    form = None
    if can_call:
        retry_at = first_calling_time(request.tenant, timezone.now() + RETRY_AFTER, rules)
        questions = questions_of(version_id, request.tenant.pk)
        form = CallForm(request.POST if posted else None, questions=questions, version_id=version_id, retry_at=retry_at)
    if posted and form is not None and form.is_valid():
        try:
            call = followup_call_record(followup=followup, staff=request.staff, record=form.record())
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("%(outcome)s: %(customer)s.") % {
                "outcome": call.get_outcome_display(), "customer": followup.customer.name})
            if call.lead_id:
                messages.info(request, _("The purchase intent went to sales as a lead."))
            if call.complaint_opened is not None:
                messages.info(request, _("Complaint #%(number)s opened from what the customer said.")
                              % {"number": call.complaint_opened.pk})
            if request.POST.get("then") == "next":
                nxt = followup_take_next(user=request.user, staff=request.staff, tenant=request.tenant,
                                         rules=rules)
                if nxt is not None:
                    return _open_call(request, nxt.pk, rules)
            return redirect("service:followups")
    elif posted and form is None:
        messages.error(request, _("This follow-up is closed already (%(status)s).")
                       % {"status": followup.get_status_display()})
    return render(request, "service/followups/call.html", {
        "followup": followup, "can_call": can_call, "form": form, "booking": booking,
        "summary": customer_summary(request.user, followup),
        "calls": calls_of(followup), **_calling_hours(request, rules),
        "feedback_complaints": _feedback_complaints(followup, can_call)})


@staff_view(perm="service.add_appointment", model=FollowUp)
@require_http_methods(["GET", "POST"])
def followup_book(request, pk):
    """Book an appointment inside the call: the form opens in the call page's appointment card with each
    advisor's free times of the chosen day, and the booking shows there; the caller stays on the call and
    records it. htmx swaps the card only; without JavaScript the whole call page does the same. Only who may
    call for the follow-up books through it (404 otherwise), and only while it is open: a closed one sends the
    caller back to its page with the reason."""
    followup, can_call = followup_for(request, pk, write=True)
    if not can_call:
        messages.error(request, _("This follow-up is closed already (%(status)s).")
                       % {"status": followup.get_status_display()})
        back = redirect("service:followup", pk=pk)
        if request.htmx:
            back = HttpResponse(status=204)
            back["HX-Redirect"] = reverse("service:followup", args=[pk])
        return back
    customer = customer_to_book(request.user, followup.customer_id)
    form = booking_form(request, customer, initial={"source": Appointment.Source.CALL,
                                                    "vehicle": followup.vehicle_id})
    form.fields["source"].widget = forms.HiddenInput()
    booked = book(request, form, customer=customer, followup=followup)
    if booked is not None and not request.htmx:
        messages.success(request, booked_message(request, booked))
        return redirect("service:followup", pk=pk)
    if not request.htmx:
        return _call_page(request, pk, posted=False, rules=service_settings(request.tenant), booking=form)
    return render(request, "service/followups/call.html#booking", {
        "followup": followup, "booking": None if booked else form,
        "summary": customer_summary(request.user, followup),
        "booked_now": booked_message(request, booked) if booked else ""})


def _feedback_complaints(followup, can_call: bool) -> list:
    """The resolved complaints this result-feedback call asks the customer about."""
    if not can_call or followup.plan.trigger != followup.plan.Trigger.COMPLAINT:
        return []
    return list(feedback_complaints(followup))
