from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.selectors import staff_directory
from crm.access import staff_view
from crm.forms import apply_errors
from customers.forms.customers import CancelForm, CustomerForm, NoteForm, PurchaseForm, VehicleForm, VisitForm
from customers.models import Customer, Purchase, ServiceVisit
from customers.panels import panels_for
from customers.selectors import customers as selectors
from customers.selectors.documents import documents_for
from customers.selectors.quality import completeness_for, survivor_for
from customers.services import customers as services
from customers.timeline import timeline_for


@transaction.non_atomic_requests  # reads only: no BEGIN/COMMIT round trips
@staff_view(perm="customers.view_customer")
def customer_list(request):
    result = selectors.customer_list(request.user, request.GET, request=request)
    template = "customers/customers/list.html#results" if request.htmx else "customers/customers/list.html"
    return render(request, template, {
        "result": result, "sorts": selectors.SORTS,
        "can_add": request.user.has_perm("customers.add_customer"),
    })


def _duplicate(request, form, error: services.DuplicateMobile):
    """Refuse next to the mobile field, naming and linking the existing customer only if this user
    may open them."""
    existing = _openable(request, error.existing)
    if existing is not None:
        apply_errors(form, error)
    else:
        form.add_error("mobile", _("Another customer already has this mobile number."))
    return existing


def _openable(request, customer):
    """The customer if this user sees them unmasked; naming anyone else would leak who they are."""
    return selectors.openable_customer(request.user, customer, write=True)


def _customer_form(request, customer=None):
    """Create (customer=None) or edit; errors go next to their fields, a duplicate mobile links the
    existing customer when this user may open them. Who edits through open work (`customer.work`) corrects
    the contact details only; the rest stays with the owner's side."""
    only = CustomerForm.CONTACT_FIELDS if customer is not None and customer.work else None
    form = CustomerForm(request.POST or None, initial=CustomerForm.initial_for(customer) if customer else None,
                        only=only)
    existing = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        tags = data.pop("tags", None)
        try:
            if customer is None:
                if not data["owner"] and not data["department"]:
                    data["owner"] = request.staff  # nobody else would see a customer nobody owns
                saved = services.customer_create(tenant=request.tenant, data=data, tags=tags)
            else:
                saved = services.customer_update(customer=customer, data=data, tags=tags)
            return redirect("customers:detail", pk=saved.pk)
        except services.DuplicateMobile as error:
            existing = _duplicate(request, form, error)
        except ValidationError as error:
            apply_errors(form, error)
    return render(request, "customers/customers/form.html", {"form": form, "existing": existing, "customer": customer,
                                                   "owner_name": _owner_name(request, customer)})


def _owner_name(request, customer) -> str:
    if customer is None or customer.owner_id is None:
        return ""
    owner = staff_directory(request.tenant.pk, include={customer.owner_id}).get(customer.owner_id)
    return owner.name if owner else ""


@staff_view(perm="customers.add_customer")
@require_http_methods(["GET", "POST"])
def customer_create(request):
    return _customer_form(request)


@staff_view(perm="customers.change_customer", model=Customer)
@require_http_methods(["GET", "POST"])
def customer_edit(request, pk):
    customer, _can_edit = selectors.customer_for(request, pk, write=True, for_work=True)
    return _customer_form(request, customer)


@transaction.non_atomic_requests  # reads only
@staff_view(perm="customers.view_customer", model=Customer)
def customer_detail(request, pk):
    try:
        customer, can_edit = selectors.customer_for(request, pk)
    except Http404:  # a merged customer's old address leads to the survivor (when both were visible)
        return redirect("customers:detail", pk=survivor_for(request.user, pk).pk)
    owner = staff_directory(request.tenant.pk, include={customer.owner_id}).get(customer.owner_id)
    owner_name = owner.name if owner else ""
    return render(request, "customers/customers/detail.html", {
        "customer": customer,
        "can_edit": can_edit,
        "can_work": can_edit or bool(customer.work),  # note, contact details, booking, complaint
        "why_not": _why_not(customer, can_edit, owner_name),
        "owner_name": owner_name,
        "vehicles": selectors.vehicles_of(customer),
        "tags": selectors.tag_names_of(customer),
        "timeline": timeline_for(customer),
        "history": selectors.customer_history(customer, masked=customer.masked),
        "can_reveal": customer.masked and customer.mobile and request.user.has_perm("customers.reveal_mobile"),
        "note_form": NoteForm(),
        "documents": documents_for(customer),
        "completeness": completeness_for(customer),
        "dealings": selectors.dealings_of(customer),
        "dealings_shown": selectors.DEALINGS_SHOWN,
        "panels": panels_for(request, customer),
    })


def _why_not(customer, can_edit: bool, owner_name: str) -> str:
    """Why the actions shown disabled on the customer page are not this user's to take."""
    if can_edit:
        return ""
    if customer.work:
        if owner_name:
            return _("Only %(owner)s and their team add vehicles, purchases, service visits and documents: you see "
                     "this customer through open work.") % {"owner": owner_name}
        return _("Only the customer's team adds vehicles, purchases, service visits and documents: you see this "
                 "customer through open work.")
    if customer.masked:
        return _("You see this customer masked: only their owner's team changes them.")
    return ""


def _sub_form(request, pk, *, form_class, title, save, customer_kwarg=False, for_work=False):
    """GET shows the form, POST calls `save(customer, cleaned_data)` and returns to the customer. `for_work`:
    also for who reaches the customer through open work (see selectors.customer_for)."""
    customer, _can_edit = selectors.customer_for(request, pk, write=True, for_work=for_work)
    extra = {"customer": customer} if customer_kwarg else {}
    form = form_class(request.POST or None, **extra)
    if request.method == "POST" and form.is_valid():
        try:
            save(customer, form.cleaned_data)
            return redirect("customers:detail", pk=customer.pk)
        except services.DuplicateVin as error:
            owner = _openable(request, error.existing)
            form.add_error("vin", _("This VIN is already registered to %(name)s.") % {"name": owner.name}
                           if owner else error.messages[0])
        except ValidationError as error:
            apply_errors(form, error)
    return render(request, "customers/customers/sub_form.html", {"form": form, "customer": customer, "title": title})


@staff_view(perm="customers.add_vehicle", model=Customer)
@require_http_methods(["GET", "POST"])
def vehicle_add(request, pk):
    return _sub_form(request, pk, form_class=VehicleForm, title=_("Add a vehicle"),
                     save=lambda customer, data: services.vehicle_add(customer=customer, **data))


@staff_view(perm="customers.add_purchase", model=Customer)
@require_http_methods(["GET", "POST"])
def purchase_add(request, pk):
    return _sub_form(request, pk, form_class=PurchaseForm, title=_("Record a purchase"), customer_kwarg=True,
                     save=lambda customer, data: services.purchase_record(customer=customer, **data))


@staff_view(perm="customers.add_servicevisit", model=Customer)
@require_http_methods(["GET", "POST"])
def visit_add(request, pk):
    return _sub_form(request, pk, form_class=VisitForm, title=_("Record a service visit"), customer_kwarg=True,
                     save=lambda customer, data: services.visit_record(customer=customer, **data))


@staff_view(perm="customers.add_customernote", model=Customer)
@require_http_methods(["GET", "POST"])
def note_add(request, pk):
    return _sub_form(request, pk, form_class=NoteForm, title=_("Add a note"), for_work=True,
                     save=lambda customer, data: services.note_add(customer=customer, author=request.staff,
                                                                    body=data["body"]))


@staff_view(perm="customers.reveal_mobile", model=Customer)
@require_http_methods(["GET", "POST"])
def reveal_mobile(request, pk):
    """GET asks to confirm; POST shows the full number and records who saw it."""
    customer, _can_edit = selectors.customer_for(request, pk)
    revealed = None
    if request.method == "POST":
        revealed = services.mobile_reveal(customer=customer, staff=request.staff)
    template = "customers/customers/partials/_reveal.html" if request.htmx else "customers/customers/reveal.html"
    return render(request, template, {"customer": customer, "revealed": revealed,
                                      "detail_url": reverse("customers:detail", args=[customer.pk])})


def _cancel(request, obj, *, title, intro, cancel):
    """GET asks to confirm (with an optional reason), POST cancels once and returns to the customer. Only who
    may change the customer (its owner's side) cancels; a row already cancelled says so."""
    customer, _can_edit = selectors.customer_for(request, obj.customer_id, write=True)
    form = CancelForm(request.POST or None)
    if obj.cancelled_at is not None and request.method != "POST":
        form = None
    elif request.method == "POST" and form.is_valid():
        try:
            cancel(obj, form.cleaned_data["reason"])
            messages.success(request, _("%(what)s cancelled.") % {"what": title})
            return redirect("customers:detail", pk=customer.pk)
        except ValidationError as error:
            apply_errors(form, error)
    return render(request, "customers/customers/cancel.html", {
        "form": form, "customer": customer, "obj": obj, "title": title, "intro": intro})


@staff_view(perm="customers.change_purchase", model=Purchase)
@require_http_methods(["GET", "POST"])
def purchase_cancel(request, pk):
    purchase = get_object_or_404(Purchase.objects.select_related("vehicle"), pk=pk)
    return _cancel(request, purchase, title=_("Purchase"),
                   intro=_("Cancel or refund this purchase? It stays on the record, marked cancelled; points the "
                           "customer earned with it in the club are taken back."),
                   cancel=lambda obj, reason: services.purchase_cancel(purchase=obj, staff=request.staff,
                                                                       reason=reason))


@staff_view(perm="customers.change_servicevisit", model=ServiceVisit)
@require_http_methods(["GET", "POST"])
def visit_cancel(request, pk):
    visit = get_object_or_404(ServiceVisit.objects.select_related("vehicle"), pk=pk)
    return _cancel(request, visit, title=_("Service visit"),
                   intro=_("Cancel or refund this service visit? It stays on the record, marked cancelled; points "
                           "the customer earned with it in the club are taken back."),
                   cancel=lambda obj, reason: services.visit_cancel(visit=obj, staff=request.staff, reason=reason))
