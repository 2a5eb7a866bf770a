"""Targets and scorecards (绩效考核): the targets page (list, set, change, remove), the team's scorecards with
their ranking and export, and one person's scorecard."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import Staff
from analytics import exports
from analytics.forms.targets import ScorecardPeriodForm, TargetForm
from analytics.metrics import TARGET_METRICS
from analytics.models import PeriodKind, Target
from analytics.selectors import targets as selectors
from analytics.services import targets as services
from crm.access import staff_view
from crm.forms import apply_errors
from crm.replica import reads_replica

VIEW_PERM, ADD_PERM, CHANGE_PERM, DELETE_PERM = ("analytics.view_target", "analytics.add_target",
                                                 "analytics.change_target", "analytics.delete_target")
SCORECARD_PERM = "analytics.view_scorecard"


def _target_form(request, *, target=None):
    return TargetForm(request.POST if request.method == "POST" else None, target=target,
                      positions=selectors.assignable_positions(request.user),
                      people=selectors.assignable_staff(request.user))


@staff_view(perm=VIEW_PERM)
@require_http_methods(["GET", "POST"])
def target_list(request):
    """The targets the user may read, filtered by metric and period kind; a director or a manager sets one here."""
    can_add = request.user.has_perm(ADD_PERM)
    form = _target_form(request) if can_add else None
    if request.method == "POST":
        if not can_add:
            return redirect("analytics:targets")
        if form.is_valid():
            try:
                services.target_create(user=request.user, tenant=request.tenant, staff=request.staff,
                                       data=form.data_for_service())
                messages.success(request, _("The target is set."))
                return redirect("analytics:targets")
            except ValidationError as error:
                apply_errors(form, error)
    metric = request.GET.get("metric", "")
    metric = metric if metric in TARGET_METRICS else ""
    kind = request.GET.get("kind", "")
    kind = kind if kind in PeriodKind.values else ""
    rows = selectors.target_list_for(request.user, metric=metric, kind=kind)
    scope = selectors.target_scope(request.user)
    return render(request, "analytics/targets/list.html", {
        "form": form, "targets": [(t, scope.allows_target(t)) for t in rows], "metric": metric, "kind": kind,
        "metrics": [(key, m.label) for key, m in TARGET_METRICS.items()], "kinds": PeriodKind.choices,
        "capped": len(rows) == selectors.TARGET_LIST_LIMIT, "limit": selectors.TARGET_LIST_LIMIT,
        "can_change": request.user.has_perm(CHANGE_PERM), "can_delete": request.user.has_perm(DELETE_PERM)})


@staff_view(perm=CHANGE_PERM, model=Target)
@require_http_methods(["GET", "POST"])
def target_edit(request, pk):
    target = selectors.target_for(request.user, pk)
    form = _target_form(request, target=target)
    if request.method == "POST" and form.is_valid():
        try:
            services.target_update(user=request.user, tenant=request.tenant, target=target,
                                   data=form.data_for_service())
            messages.success(request, _("The target is changed."))
            return redirect("analytics:targets")
        except ValidationError as error:
            apply_errors(form, error)
    return render(request, "analytics/targets/edit.html", {"form": form, "target": target})


@staff_view(perm=DELETE_PERM, model=Target)
@require_http_methods(["GET", "POST"])
def target_delete(request, pk):
    target = selectors.target_for(request.user, pk)
    if request.method == "POST":
        services.target_delete(user=request.user, target=target)
        messages.success(request, _("The target is removed."))
        return redirect("analytics:targets")
    return render(request, "analytics/targets/delete.html", {"target": target})


def _period(request, tenant):
    form = ScorecardPeriodForm(request.GET)
    form.is_valid()  # a wrong date is shown next to its field; the current period is used meanwhile
    data = getattr(form, "cleaned_data", {})
    kind = data.get("kind") or PeriodKind.MONTH
    return form, selectors.period_for(kind, data.get("on") or tenant.today())


def _team(request):
    form, period = _period(request, request.tenant)
    departments = selectors.department_choices(request.user)
    try:
        department = int(request.GET.get("department") or 0) or None
    except ValueError:
        department = None
    if department not in {pk for pk, _name in departments}:
        department = None
    board = selectors.team_scorecards(request.user, tenant=request.tenant, period=period, department_id=department,
                                      sort=request.GET.get("sort", ""))
    return form, board, departments, department


@staff_view(perm=SCORECARD_PERM)
@require_GET
@reads_replica
def scorecard_team(request):
    """Each person's pace against their targets in a month or a week, ranked by share of target."""
    form, board, departments, department = _team(request)
    query = request.GET.copy()
    query.pop("sort", None)
    return render(request, "analytics/targets/team.html", {
        "form": form, "board": board, "departments": departments, "department": department,
        "query": query.urlencode(), "previous": board.period.shifted(-1), "next": board.period.shifted(1)})


@staff_view(perm=SCORECARD_PERM)
@require_GET
@reads_replica
def scorecard_export(request):
    """The team's scorecards as an Excel workbook for the review meeting: one row per person and metric."""
    _form, board, _departments, _department = _team(request)
    return exports.ScorecardExport(board, tenant_name=request.tenant.name).response()


@staff_view(perm=SCORECARD_PERM, model=Staff)
@require_GET
@reads_replica
def scorecard_person(request, staff_id):
    form, period = _period(request, request.tenant)
    board = selectors.person_scorecard(request.user, staff_id, tenant=request.tenant, period=period)
    return render(request, "analytics/targets/person.html", {
        "form": form, "board": board, "card": board.cards[0], "previous": period.shifted(-1),
        "next": period.shifted(1)})
