"""The charter and the member handbook for staff (/club/handbook/)."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from club.selectors.access import require_club
from club.selectors.handbook import handbook_page
from crm.access import staff_view


@staff_view(perm="club.view_level")
@require_GET
def handbook(request):
    """The newest published charter and handbook, the list of versions, an older one with ?kind=&version=."""
    require_club(request)
    return render(request, "club/handbook/page.html", {"page": handbook_page(request.GET)})
