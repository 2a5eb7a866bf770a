"""Members and cards pages (会员与会员卡): the members list at /club/, enrolment, the member page with its card
actions and manual adjustments, and the daily list of manual adjustments with the credits waiting for approval.

Everyone in the club team (and directors) works here; data analysts read it all with mobiles masked; other staff
get a 403 (club.selectors.access.require_club)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from club.forms.members import AdjustForm, CancelForm, CardNumberForm, ConfirmForm, EnrolForm
from club.models import AdjustmentRequest, Card, Member
from club.selectors import members as selectors
from club.selectors.access import member_for, require_club
from club.services import leaving, points
from club.services import members as services
from crm.access import staff_view
from crm.forms import MAX_ID, apply_errors, parse_date_param, parse_id
from customers.models import Customer


def _data(request):
    """The form's data on a POST (also an empty one: a confirmation without fields), None on a GET."""
    return request.POST if request.method == "POST" else None


@transaction.non_atomic_requests  # reads only
@staff_view(perm="club.view_member")
def member_list(request):
    access = require_club(request)
    result = selectors.member_list(request.user, request.GET, request=request, access=access)
    template = "club/members/list.html#results" if request.htmx else "club/members/list.html"
    return render(request, template, {
        "result": result, "sorts": selectors.SORTS,
        "can_enrol": access.works and request.user.has_perm("club.add_member"),
    })


@staff_view(perm="club.add_member")
@require_http_methods(["GET", "POST"])
def member_enrol(request):
    """Without a customer: find them. With `customer`: the consent and an optional pre-printed card number."""
    require_club(request, write=True)
    raw = request.POST.get("customer") or request.GET.get("customer") or ""
    customer = None
    if raw:
        pk = parse_id(raw)
        customer = Customer.objects.filter(pk=pk, is_active=True).first() if pk else None
        if customer is None:
            raise Http404
    if customer is None:
        q = request.GET.get("q", "").strip()[:100]
        found = selectors.customers_to_enrol(request.user, q)
        return render(request, "club/members/enrol.html", {"q": q, "found": found})
    member = Member.objects.filter(customer=customer).first()
    form = EnrolForm(_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            member = services.member_enrol(customer=customer, staff=request.staff,
                                           consent_note=form.cleaned_data["consent_note"],
                                           card_number=form.cleaned_data["number"])
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("%(customer)s is a member now.") % {"customer": customer.name})
            return redirect("club:member", pk=member.pk)
    return render(request, "club/members/enrol.html", {"customer": customer, "member": member, "form": form})


@transaction.non_atomic_requests  # reads only
@staff_view(perm="club.view_member", model=Member)
def member_detail(request, pk):
    member, access = member_for(request, pk)
    page = selectors.member_page(request, member, access, before=parse_id(request.GET.get("before", "")))
    return render(request, "club/members/detail.html", {
        "member": member, "access": access, "page": page, "adjust_form": AdjustForm(),
        "can_work": access.works and member.status == Member.Status.ACTIVE,
    })


def _card_of(member: Member, card_pk: int) -> Card:
    card = Card.objects.filter(pk=card_pk, member=member).first() if 0 < card_pk <= MAX_ID else None
    if card is None:
        raise Http404
    return card


def _action(request, member, *, form, title, submit, act, done, intro="", danger=False):
    """GET: the confirmation (with the form); POST: `act(cleaned_data)`, a message and back to the member."""
    if request.method == "POST" and form.is_valid():
        try:
            act(form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, done)
            return redirect("club:member", pk=member.pk)
    return render(request, "club/members/action.html", {"member": member, "form": form, "title": title,
                                                        "submit": submit, "intro": intro, "danger": danger})


@staff_view(perm="club.add_card", model=Member)
@require_http_methods(["GET", "POST"])
def card_issue(request, pk):
    member, _access = member_for(request, pk, write=True)
    return _action(
        request, member, form=CardNumberForm(_data(request)), title=_("Issue a card"), submit=_("Issue the card"),
        intro=_("The member holds no card in use."),
        act=lambda data: services.card_issue(member=member, staff=request.staff, number=data["number"]),
        done=_("Card issued."))


@staff_view(perm="club.change_card", model=Member)
@require_http_methods(["GET", "POST"])
def card_lost(request, pk, card):
    member, _access = member_for(request, pk, write=True)
    card = _card_of(member, card)
    return _action(
        request, member, form=ConfirmForm(_data(request)), title=_("Report card %(number)s lost")
        % {"number": card.number}, submit=_("Report it lost"), danger=True,
        intro=_("The card is frozen at once: nothing can be earned or redeemed with it until it is reissued. "
                "The member keeps their level, points and history."),
        act=lambda data: services.card_report_lost(card=card, staff=request.staff),
        done=_("Card %(number)s is reported lost.") % {"number": card.number})


@staff_view(perm="club.add_card", model=Member)
@require_http_methods(["GET", "POST"])
def card_reissue(request, pk, card):
    member, _access = member_for(request, pk, write=True)
    card = _card_of(member, card)
    done = {}

    def act(data):
        done["card"] = services.card_reissue(card=card, staff=request.staff, number=data["number"])
        messages.info(request, _("Card %(old)s was replaced by card %(new)s.")
                      % {"old": card.number, "new": done["card"].number})

    return _action(
        request, member, form=CardNumberForm(_data(request)), title=_("Reissue card %(number)s")
        % {"number": card.number}, submit=_("Reissue"),
        intro=_("A new card with a new number; the old number is refused from now on and still finds the member. "
                "Level, points and history stay with the member."),
        act=act, done=_("New card issued."))


@staff_view(perm="club.change_member", model=Member)
@require_http_methods(["GET", "POST"])
def member_cancel(request, pk):
    member, _access = member_for(request, pk, write=True)
    return _action(
        request, member, form=CancelForm(_data(request)), title=_("Cancel the membership"),
        submit=_("Cancel the membership"), danger=True,
        intro=_("The card is cancelled, and so are the member's places at coming activities, rewards not yet handed "
                "over (their points and stock go back), member services not yet delivered and credits waiting for "
                "approval. Points and history are kept: enrolled again, the customer finds them."),
        act=lambda data: leaving.member_cancel(member=member, staff=request.staff, reason=data["reason"]),
        done=_("The membership is cancelled."))


@staff_view(perm="club.add_pointentry", model=Member)
@require_http_methods(["GET", "POST"])
def member_adjust(request, pk):
    """A manual credit or debit; a credit above the programme's threshold waits for a second person's approval."""
    member, _access = member_for(request, pk, write=True)
    form = AdjustForm(_data(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = points.points_adjust(member=member, points=data["points"], note=data["note"],
                                          staff=request.staff, source=data["source"], once=data["once"])
        except ValidationError as error:
            apply_errors(form, error)
        else:
            if getattr(result, "repeated", False):
                messages.info(request, _("This adjustment was already recorded: the form was sent twice."))
            elif isinstance(result, AdjustmentRequest):
                messages.warning(request, _("%(points)s points are waiting for approval by a second person.")
                                 % {"points": data["points"]})
            else:
                messages.success(request, _("Points adjusted."))
            return redirect("club:member", pk=member.pk)
    return render(request, "club/members/action.html", {
        "member": member, "form": form, "title": _("Adjust points"), "submit": _("Adjust")})


@transaction.non_atomic_requests  # reads only
@staff_view(perm="club.view_adjustmentrequest")
def adjustments(request):
    access = require_club(request)
    try:
        day = parse_date_param(request.GET.get("day")) or request.tenant.today()
    except ValidationError as error:
        messages.error(request, error.messages[0])
        day = request.tenant.today()
    can_decide = access.works and request.user.has_perm("club.approve_adjustment")
    return render(request, "club/members/adjustments.html", {
        "pending": selectors.pending_adjustments(), "listing": selectors.adjustments_of_day(request.tenant, day),
        "can_decide": can_decide, "access": access, "today": request.tenant.today(),
        "reconciliation": selectors.last_reconciliation(),
    })


def _decide(request, pk, *, approve: bool):
    require_club(request, write=True)
    adjustment = (AdjustmentRequest.objects.select_related("member__customer", "requested_by__user")
                  .filter(pk=pk).first() if 0 < pk <= MAX_ID else None)
    if adjustment is None:
        raise Http404
    form = ConfirmForm(_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            if approve:
                points.adjustment_approve(request=adjustment, staff=request.staff)
            else:
                points.adjustment_reject(request=adjustment, staff=request.staff)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Credit approved.") if approve else _("Credit rejected."))
            return redirect("club:adjustments")
    return render(request, "club/members/decide.html", {"adjustment": adjustment, "form": form, "approve": approve,
                                                        "own": adjustment.requested_by_id == request.staff.pk})


@staff_view(perm="club.approve_adjustment", model=AdjustmentRequest)
@require_http_methods(["GET", "POST"])
def adjustment_approve(request, pk):
    return _decide(request, pk, approve=True)


@staff_view(perm="club.approve_adjustment", model=AdjustmentRequest)
@require_http_methods(["GET", "POST"])
def adjustment_reject(request, pk):
    return _decide(request, pk, approve=False)
