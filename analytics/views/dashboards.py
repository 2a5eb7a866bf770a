"""The home page (`/`): the logged-in user's dashboard, their role's tiles for a period, each linking to the
list it counts; someone who holds no position sees who they are and whom to ask.

The dashboard's HTML is kept per user in each process's memory until a rollup is refreshed (the key names every
refresh, analytics.selectors.dashboards.dashboard_cache_key): its figures change only then, and a manager who looks
at it twenty times a day computes it once per refresh. The page around it (the menus, their forms' CSRF tokens)
is rendered on every request."""

from django.core.cache import caches
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from accounts.selectors import staff_positions
from analytics.selectors.dashboards import DASHBOARD_TTL, dashboard, dashboard_cache_key
from crm.access import staff_view
from crm.replica import reads_replica


@staff_view()
@reads_replica
def home(request):
    tenant, staff = request.tenant, request.staff
    key = dashboard_cache_key(request.user, tenant=tenant, params=request.GET, language=get_language())
    board_html = caches["local"].get(key) if key else None
    if key and board_html is None:
        board = dashboard(request.user, tenant=tenant, staff=staff, params=request.GET)
        board_html = str(render_to_string("analytics/dashboards/_board.html", {
            "board": board, "positions": staff_positions(staff)}, request=request))
        caches["local"].set(key, board_html, DASHBOARD_TTL)
    return render(request, "analytics/dashboards/home.html", {
        # our own template's output, escaped when it was rendered
        "board_html": mark_safe(board_html) if board_html else "",  # noqa: S308
        "staff": staff,
        "positions": staff_positions(staff),
        "is_tenant_admin": request.user.has_perm("accounts.change_staff"),
    })
