"""The home page (`/`): the logged-in user's dashboard, their role's tiles for a period, each linking to the
list it counts; someone who holds no position sees who they are and whom to ask."""

from django.shortcuts import render

from accounts.selectors import staff_positions
from analytics.selectors.dashboards import dashboard
from crm.access import staff_view


@staff_view()
def home(request):
    board = dashboard(request.user, tenant=request.tenant, staff=request.staff, params=request.GET)
    return render(request, "analytics/dashboards/home.html", {
        "board": board,
        "staff": request.staff,
        "positions": staff_positions(request.staff),
        "is_tenant_admin": request.user.has_perm("accounts.change_staff"),
    })
