"""Club activity pages (俱乐部活动): the list, planning and editing, the activity with its report and invitation
list (the callers record each answer), registering a member at the desk, the check-in page, and the members' own
registration page behind the signed link of their invitation."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_scopes import scope

from accounts.models import Tenant
from club.forms.activities import ActivityForm, ConfirmForm, InviteForm, MemberQueryForm
from club.models import Activity, Registration
from club.selectors import activities as selectors
from club.selectors.access import require_club
from club.services import activities as services
from crm.access import public_view, staff_view
from crm.forms import apply_errors
from customers.selectors.saved_filters import segment_of_tenant

Status = Registration.Status


@staff_view(perm="club.view_activity")
def activity_list(request):
    access = require_club(request)
    listing = selectors.activity_page(request.GET, request=request)
    return render(request, "club/activities/list.html", {
        "filter": listing.filter, "page": listing.page, "may_write": access.works})


def _save(request, form, activity=None):
    if not form.is_valid():
        return None
    try:
        data, levels = form.data_for_service(), form.cleaned_data["levels"]
        if activity is None:
            return services.activity_create(tenant=request.tenant, staff=request.staff, data=data, levels=levels)
        return services.activity_update(activity=activity, staff=request.staff, data=data, levels=levels)
    except ValidationError as error:
        apply_errors(form, error)
        return None


@staff_view(perm="club.add_activity")
@require_http_methods(["GET", "POST"])
def activity_new(request):
    require_club(request, write=True)
    initial = {}
    if request.method == "GET" and "segment" in request.GET:  # from a segment's page
        initial["audience_segment"] = segment_of_tenant(request.GET["segment"])  # else 404
    form = ActivityForm(request.POST or None, initial=initial)
    saved = _save(request, form) if request.method == "POST" else None
    if saved is not None:
        messages.success(request, _("Activity %(title)s planned.") % {"title": saved.title})
        return redirect("club:activity", pk=saved.pk)
    return render(request, "club/activities/form.html", {"form": form, "activity": None})


@staff_view(perm="club.change_activity", model=Activity)
@require_http_methods(["GET", "POST"])
def activity_edit(request, pk):
    activity, _access = selectors.activity_for(request, pk, write=True)
    form = ActivityForm(request.POST or None, activity=activity,
                        levels=[level.pk for level in selectors.audience_levels(activity)])
    saved = _save(request, form, activity) if request.method == "POST" else None
    if saved is not None:
        messages.success(request, _("Activity saved."))
        return redirect("club:activity", pk=saved.pk)
    return render(request, "club/activities/form.html", {"form": form, "activity": activity})


@staff_view(perm="club.change_activity", model=Activity)
@require_http_methods(["GET", "POST"])
def activity_cancel(request, pk):
    activity, _access = selectors.activity_for(request, pk, write=True)
    form = ConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.activity_cancel(activity=activity, staff=request.staff)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The activity is cancelled."))
            return redirect("club:activity", pk=pk)
    return render(request, "club/activities/cancel.html", {"activity": activity, "form": form})


@staff_view(perm="club.view_activity", model=Activity)
def activity_detail(request, pk):
    activity, access = selectors.activity_for(request, pk)
    status = request.GET.get("status", "")
    rows, more = selectors.registration_rows(activity, access=access, status=status)
    return render(request, "club/activities/detail.html", {
        "activity": activity, "may_write": access.works, "report": selectors.activity_report(activity),
        "levels": selectors.audience_levels(activity), "rows": rows, "more": more, "status": status,
        "statuses": Status.choices, "invite_form": InviteForm(), "query_form": MemberQueryForm(),
        "open": activity.status == Activity.Status.PLANNED and activity.starts_at > timezone.now()})


@staff_view(perm="club.change_activity", model=Activity)
@require_http_methods(["GET", "POST"])
def activity_invite(request, pk):
    activity, _access = selectors.activity_for(request, pk, write=True)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            count = services.activity_invite(activity=activity, staff=request.staff,
                                             channel=form.cleaned_data["channel"])
        except ValidationError as error:
            apply_errors(form, error)
        else:
            if count:
                messages.success(request, _("%(count)s members invited.") % {"count": count})
            else:
                messages.info(request, _("Nobody new to invite: the audience's members are on the list already "
                                         "(or cannot be reached that way)."))
            return redirect("club:activity", pk=pk)
    return render(request, "club/activities/action.html", {
        "activity": activity, "form": form, "title": _("Invite the audience"), "button": _("Invite")})


@staff_view(perm="club.add_registration", model=Activity)
@require_http_methods(["GET", "POST"])
def activity_register(request, pk):
    """Staff register a member found by card number or mobile."""
    activity, _access = selectors.activity_for(request, pk, write=True)
    form = MemberQueryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            member, _card = services.member_by_card_or_mobile(form.cleaned_data["query"])
            registration = services.registration_add(activity=activity, member=member, staff=request.staff)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("%(member)s: %(status)s.") % {
                "member": member, "status": registration.get_status_display()})
            return redirect("club:activity", pk=pk)
    return render(request, "club/activities/action.html", {
        "activity": activity, "form": form, "title": _("Register a member"), "button": _("Register")})


@staff_view(perm="club.change_registration", model=Registration)
@require_http_methods(["GET", "POST"])
def registration_answer(request, pk):
    """The caller records the invited member's answer: registered, or declined."""
    registration, _access = selectors.registration_for(request, pk, write=True)
    form = ConfirmForm(request.POST or None)
    answer = request.POST.get("answer")
    if request.method == "POST" and answer in ("register", "decline") and form.is_valid():
        try:
            if answer == "register":
                registration = services.registration_register(registration=registration)
            else:
                registration = services.registration_cancel(registration=registration, staff=request.staff)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("%(member)s: %(status)s.") % {
                "member": registration.member, "status": registration.get_status_display()})
            return redirect("club:activity", pk=registration.activity_id)
    registration.member.customer.masked = False
    return render(request, "club/activities/answer.html", {"registration": registration, "form": form})


@staff_view(perm="club.change_registration", model=Activity)
@require_http_methods(["GET", "POST"])
def activity_checkin(request, pk):
    activity, _access = selectors.activity_for(request, pk, write=True)
    form = MemberQueryForm(request.POST or None)
    checked = None
    if request.method == "POST" and form.is_valid():
        try:
            member, card = services.member_by_card_or_mobile(form.cleaned_data["query"])
            checked = services.registration_check_in(activity=activity, member=member, card=card,
                                                     staff=request.staff)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            form = MemberQueryForm()  # the next one
    report = selectors.activity_report(activity)
    return render(request, "club/activities/checkin.html", {
        "activity": activity, "form": form, "checked": checked, "report": report})


# --- the members' own page (no login) ---------------------------------------------------------------------

LANGUAGES = [code for code, _name in settings.LANGUAGES]


def _public(request, tenant, context: dict, status: int = 200) -> HttpResponse:
    return render(request, "club/activities/public.html", {"tenant": tenant, "languages": settings.LANGUAGES,
                                                           **context}, status=status)


@public_view
@require_http_methods(["GET", "POST"])
def registration_public(request, token):
    """A member registers (or cancels) for an activity through the link of their invitation. The tenant and the
    registration come from the signed token: a changed token, or one of another company, finds nothing."""
    ids = services.registration_token_read(token)
    tenant = Tenant.objects.filter(pk=ids[0], is_active=True).first() if ids else None
    asked = request.GET.get("lang")
    language = asked if asked in LANGUAGES else (tenant.default_language if tenant else settings.LANGUAGE_CODE)
    with translation.override(language):
        if tenant is None:
            return _public(request, None, {"kind": "invalid"}, status=404)
        with scope(tenant=tenant), timezone.override(tenant.timezone):
            return _registration_public(request, tenant, ids[1])


def _registration_public(request, tenant, registration_id: int) -> HttpResponse:
    registration = selectors.registration_public(registration_id)
    if registration is None:
        return _public(request, tenant, {"kind": "invalid"}, status=404)
    activity = registration.activity
    context = {"registration": registration, "activity": activity}
    if activity.status == Activity.Status.CANCELLED:
        return _public(request, tenant, {**context, "kind": "cancelled"}, status=410)
    if activity.starts_at <= timezone.now() or registration.status == Status.ATTENDED:
        return _public(request, tenant, {**context, "kind": "closed"}, status=410)
    error = None
    if request.method == "POST":
        try:
            if request.POST.get("answer") == "register":
                registration = services.registration_register(registration=registration)
            elif request.POST.get("answer") == "cancel":
                registration = services.registration_cancel(registration=registration)
        except ValidationError as failure:
            error = " ".join(failure.messages)
        else:
            return redirect(f"{request.path}?lang={translation.get_language()}")
    return _public(request, tenant, {**context, "kind": "open", "error": error,
                                     "seats_left": max(activity.capacity - selectors.seats_taken(activity), 0)})
