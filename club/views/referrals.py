"""Member referrals (会员推荐): a member refers a prospect from their page; the club manager follows referral →
lead → sale → points (再营销成果)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from club.forms.referrals import ReferralForm
from club.models import Member
from club.selectors.access import member_for, require_club
from club.selectors.referrals import referral_page
from club.services.referrals import referral_create
from crm.access import staff_view
from crm.forms import apply_errors


@staff_view(perm="club.add_referral", model=Member)
@require_http_methods(["GET", "POST"])
def member_refer(request, pk):
    member, _access = member_for(request, pk, write=True)
    form = ReferralForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            referral = referral_create(member=member, staff=request.staff, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Lead %(name)s registered, referred by %(member)s.")
                             % {"name": referral.lead.name, "member": member})
            return redirect("club:referrals")
    return render(request, "club/referrals/new.html", {"member": member, "form": form})


@staff_view(perm="club.view_referral")
def referral_list(request):
    access = require_club(request)
    listing = referral_page(request.GET, request=request, access=access)
    return render(request, "club/referrals/list.html", {
        "filter": listing.filter, "page": listing.page, "summary": listing.summary})
