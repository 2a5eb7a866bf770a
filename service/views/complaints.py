"""Complaint pages (投诉): the list with its filters, registering one for a customer, and the complaint's page
with its clocks, its history and the actions its state allows."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.models import Staff
from crm.access import staff_view
from crm.forms import apply_errors, parse_id
from customers.models import Customer
from customers.selectors.customers import customers_visible_to, openable_customer, search
from service.forms.complaints import (
    ComplaintForm,
    ComplaintReassignForm,
    ConfirmForm,
    OptionalTextForm,
    ReclassifyForm,
    ResolveForm,
    TextForm,
)
from service.models import Complaint
from service.selectors.complaints import complaint_for, complaint_page
from service.services import complaints

Status = Complaint.Status


@staff_view(perm="service.view_complaint")
def complaint_list(request):
    listing = complaint_page(request.user, request.GET, request=request)
    return render(request, "service/complaints/list.html", {
        "listing": listing, "filter": listing.filter, "page": listing.page, "now": timezone.now(),
        "can_register": request.user.has_perm("service.add_complaint")})


@staff_view(perm="service.add_complaint")
@require_http_methods(["GET", "POST"])
def complaint_new(request):
    """GET without a customer: find them. With `customer`: the form; POST registers it."""
    raw = request.POST.get("customer") or request.GET.get("customer") or ""
    customer = None
    if raw:
        pk = parse_id(raw)
        customer = openable_customer(request.user, Customer.objects.filter(pk=pk).first() if pk else None,
                                     write=True)
        if customer is None:
            raise Http404
    if customer is None:
        q = request.GET.get("q", "").strip()
        found = list(search(customers_visible_to(request.user, write=True), q, request.user)
                     .order_by("name", "id")[:20]) if q else []
        return render(request, "service/complaints/new.html", {"q": q, "found": found})
    form = ComplaintForm(request.POST or None, request=request, customer=customer)
    if request.method == "POST" and form.is_valid():
        try:
            complaint = complaints.complaint_register(tenant=request.tenant, actor=request.staff, complaint=form.save())
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Complaint #%(number)s registered.") % {"number": complaint.pk})
            return redirect("service:complaint", pk=complaint.pk)
    return render(request, "service/complaints/new.html", {"customer": customer, "form": form})


ACTIONS = {
    # action → (its form, the states it is offered in)
    "respond": (TextForm, (Status.NEW,)),
    "wait": (TextForm, (Status.NEW, Status.OPEN)),
    "resume": (OptionalTextForm, (Status.WAITING,)),
    "note": (TextForm, tuple(Status.values)),
    "reassign": (ComplaintReassignForm, Complaint.UNRESOLVED),
    "reclassify": (ReclassifyForm, Complaint.UNRESOLVED),
    "resolve": (ResolveForm, Complaint.UNRESOLVED),
    "confirm": (ConfirmForm, (Status.RESOLVED,)),
}


def _form(action: str, request, data=None):
    form_class = ACTIONS[action][0]
    kwargs = {"request": request} if form_class is ComplaintReassignForm else {}
    return form_class(data, prefix=action, **kwargs)


def _apply(action: str, form, *, complaint: Complaint, staff: Staff):
    data = form.cleaned_data
    common = {"complaint_id": complaint.pk, "actor": staff}
    if action == "respond":
        return complaints.complaint_respond(**common, text=data["text"])
    if action == "wait":
        return complaints.complaint_wait_for_customer(**common, text=data["text"])
    if action == "resume":
        return complaints.complaint_resume(**common, text=data["text"])
    if action == "note":
        return complaints.complaint_note_add(**common, text=data["text"])
    if action == "reassign":
        target = form.target()
        owner = Staff.objects.filter(pk=target["owner_id"]).first() if "owner_id" in target else None
        return complaints.complaint_reassign(**common, owner=owner, department_id=target.get("department_id"))
    if action == "reclassify":
        return complaints.complaint_reclassify(**common, category_id=data["category"].pk, severity=data["severity"])
    if action == "resolve":
        return complaints.complaint_resolve(**common, root_cause=data["root_cause"], action_taken=data["action_taken"],
                                            result=data["result"])
    return complaints.complaint_confirm(**common, satisfied=data["satisfied"] == "yes", text=data["text"])


DONE = {  # lazy: translated when shown, in the reader's language
    "respond": gettext_lazy("First response recorded."),
    "wait": gettext_lazy("The clocks stop until the customer answers."),
    "resume": gettext_lazy("The clocks run again."),
    "note": gettext_lazy("Note added."),
    "reassign": gettext_lazy("Reassigned."),
    "reclassify": gettext_lazy("Reclassified; the deadlines follow the new service level."),
    "resolve": gettext_lazy("Resolved. A result-feedback call is queued."),
    "confirm": gettext_lazy("The customer's answer is recorded."),
}


@staff_view(perm="service.view_complaint", model=Complaint)
@require_http_methods(["GET", "POST"])
def complaint_detail(request, pk):
    """The complaint; POST `action=<name>` with that action's form."""
    action = request.POST.get("action") if request.method == "POST" else None
    if action is not None and action not in ACTIONS:
        action = None
    complaint, may_write = complaint_for(request, pk, write=action is not None)
    bound = None
    if action is not None:
        bound = _form(action, request, request.POST)
        if complaint.status not in ACTIONS[action][1]:
            messages.error(request, _("This complaint is %(status)s; refresh the page.")
                           % {"status": complaint.get_status_display().lower()})
            return redirect("service:complaint", pk=pk)
        if bound.is_valid():
            try:
                _apply(action, bound, complaint=complaint, staff=request.staff)
            except ValidationError as error:
                apply_errors(bound, error)
            else:
                messages.success(request, DONE[action])
                return redirect("service:complaint", pk=pk)
    forms = {}
    if may_write:
        for name, (_form_class, states) in ACTIONS.items():
            if complaint.status in states:
                forms[name] = bound if name == action else _form(name, request)
        if "reclassify" in forms and forms["reclassify"] is not bound:
            forms["reclassify"].initial = {"category": complaint.category_id, "severity": complaint.severity}
    return render(request, "service/complaints/detail.html", {
        "complaint": complaint, "may_write": may_write, "forms": forms, "failed": action,
        "events": complaint.events.select_related("actor__user").order_by("id"), "now": timezone.now(),
        "customer_link": openable_customer(request.user, complaint.customer)})
