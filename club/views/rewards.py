"""Reward pages (积分换礼): the catalogue, redeeming for a member, and the redemptions list where rewards are
handed over or cancelled."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from club.forms.rewards import RedeemForm, RedemptionCancelForm
from club.models import Member
from club.selectors.access import member_for, require_club
from club.selectors.rewards import (
    member_redemptions,
    redemption_by_id,
    redemption_page,
    redemption_sent_with,
    reward_page,
    rewards_redeemable,
)
from club.services import rewards
from crm.access import staff_view
from crm.forms import apply_errors


@staff_view(perm="club.view_reward")
def reward_list(request):
    require_club(request)
    listing = reward_page(request.GET, tenant=request.tenant)
    return render(request, "club/rewards/list.html", {
        "filter": listing.filter, "page": listing.page, "today": request.tenant.today()})


@staff_view(perm="club.add_redemption", model=Member)
@require_http_methods(["GET", "POST"])
def redeem(request, pk):
    """Choose a reward and a quantity for the member; POST reserves the stock and the points."""
    member, _access = member_for(request, pk, write=True)
    if request.method == "POST" and redemption_sent_with(member, request.POST.get("once", "")) is not None:
        # sent twice, the first done: said before the form, which no longer offers a reward the first took the last of
        messages.info(request, _("This redemption was already recorded: the form was sent twice."))
        return redirect("club:member", pk=member.pk)
    form = RedeemForm(request.POST or None, rewards=rewards_redeemable(request.tenant))
    if request.method == "POST" and form.is_valid():
        try:
            redemption = rewards.redemption_reserve(member=member, reward=form.cleaned_data["reward"],
                                                    quantity=form.cleaned_data["quantity"], staff=request.staff,
                                                    once=form.cleaned_data["once"])
        except ValidationError as error:
            apply_errors(form, error)
        else:
            if getattr(redemption, "repeated", False):
                messages.info(request, _("This redemption was already recorded: the form was sent twice."))
                return redirect("club:member", pk=member.pk)
            messages.success(request, _("%(reward)s × %(quantity)s reserved for %(points)s points.") % {
                "reward": redemption.reward.name, "quantity": redemption.quantity, "points": redemption.points})
            return redirect("club:member", pk=member.pk)
    member.customer.masked = False
    return render(request, "club/rewards/redeem.html", {
        "member": member, "form": form, "recent": member_redemptions(member, limit=10)})


@staff_view(perm="club.view_redemption")
@require_http_methods(["GET", "POST"])
def redemption_list(request):
    """The redemptions, those waiting to be handed over first; POST `action=fulfil|cancel` with `redemption`."""
    access = require_club(request, write=request.method == "POST")
    if request.method == "POST":
        if not request.user.has_perm("club.change_redemption"):
            raise PermissionDenied
        _redemption_action(request)
        return redirect(request.get_full_path())
    listing = redemption_page(request.GET, access=access)
    return render(request, "club/rewards/redemptions.html", {
        "filter": listing.filter, "page": listing.page,
        "may_work": access.works and request.user.has_perm("club.change_redemption")})


def _redemption_action(request) -> None:
    redemption = redemption_by_id(request.POST.get("redemption"))
    action = request.POST.get("action")
    try:
        if action == "fulfil":
            rewards.redemption_fulfil(redemption=redemption, staff=request.staff)
            messages.success(request, _("%(reward)s handed over to %(member)s.")
                             % {"reward": redemption.reward.name, "member": redemption.member})
        elif action == "cancel":
            form = RedemptionCancelForm(request.POST)
            if not form.is_valid():
                raise ValidationError(form.errors["reason"])
            rewards.redemption_cancel(redemption=redemption, staff=request.staff, reason=form.cleaned_data["reason"])
            messages.success(request, _("Redemption cancelled: the stock and %(points)s points are back.")
                             % {"points": redemption.points})
        else:
            messages.error(request, _("Choose what to do with the redemption."))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
