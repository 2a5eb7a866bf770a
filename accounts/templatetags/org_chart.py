"""The org chart drawn in HTML: two box-and-line trees (departments, reporting lines) and the outline.

Rendered in Python rather than by a recursive template include (one include per department cost most of
the page's time); the page caches the result per tenant, org chart version and language
(accounts.views.org_chart). Every name goes through format_html, so it is escaped."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from accounts.selectors import ROLE_RANK, OrgNode

register = template.Library()

BOX_HOLDERS = 3  # names shown in a chart box; the outline lists everyone


def _join(parts) -> SafeString:
    return mark_safe("".join(parts))  # noqa: S308 - every part comes from format_html


def _holders_line(holders) -> SafeString:
    if not holders:
        return format_html('<div class="org-box-holders fst-italic">{}</div>', gettext("Vacant"))
    names = ", ".join(staff.user.display_name for staff in holders[:BOX_HOLDERS])
    more = len(holders) - BOX_HOLDERS
    if more > 0:
        names = ngettext("%(names)s and %(count)d more", "%(names)s and %(count)d more", more) % {
            "names": names, "count": more}
    return format_html('<div class="org-box-holders">{}</div>', names)


def _search_text(position, department) -> str:
    return " ".join([position.title, department.name,
                     *(f"{staff.user.display_name} {staff.employee_no}" for staff in position.holder_list)])


def _people(count: int) -> str:
    return ngettext("%(counter)s person", "%(counter)s people", count) % {"counter": count}


# --- chart by department -----------------------------------------------------------------------------


def _department_item(node: OrgNode) -> SafeString:
    lines = format_html_join(
        "", '<li class="org-box-position role-{}" data-org-text="{}"><span class="fw-semibold">{}</span>{}</li>',
        ((p.role_kind, _search_text(p, node.department), p.title, _holders_line(p.holder_list))
         for p in node.positions),
    )
    children = _join(_department_item(child) for child in node.children)
    return format_html(
        '<li><div class="org-box org-box-department" id="chart-department-{}" data-org-text="{}">'
        '<div class="org-box-title">{} <span class="badge rounded-pill text-bg-light border">{}</span></div>'
        '<ul class="org-box-positions">{}</ul></div>{}</li>',
        node.department.pk, node.department.name, node.department.name, _people(node.headcount), lines,
        format_html('<ul class="org-level">{}</ul>', children) if node.children else "",
    )


@register.simple_tag
def department_chart(roots: list[OrgNode]) -> SafeString:
    return format_html('<ul class="org-tree" aria-label="{}">{}</ul>', gettext("Chart by department"),
                       _join(_department_item(root) for root in roots))


# --- chart by reporting line ---------------------------------------------------------------------------


def _position_item(position, subordinates) -> SafeString:
    below = subordinates.get(position.pk, [])
    children = _join(_position_item(child, subordinates) for child in below)
    return format_html(
        '<li><div class="org-box org-box-position role-{}" id="chart-position-{}" data-org-text="{}">'
        '<div class="org-box-title">{}</div><div class="org-box-meta">{} · {}</div>{}</div>{}</li>',
        position.role_kind, position.pk, _search_text(position, position.department), position.title,
        position.department.name, position.get_role_kind_display(), _holders_line(position.holder_list),
        format_html('<ul class="org-level">{}</ul>', children) if below else "",
    )


@register.simple_tag
def reporting_chart(roots: list[OrgNode]) -> SafeString:
    positions = []
    stack = list(roots)
    while stack:
        node = stack.pop()
        for position in node.positions:
            position.department = node.department  # the node's instance: no query
            positions.append(position)
        stack.extend(node.children)
    known = {p.pk for p in positions}
    subordinates: dict[int, list] = {}
    tops = []
    for position in sorted(positions, key=lambda p: (ROLE_RANK.get(p.role_kind, 9), p.department.sort_order,
                                                     p.title)):
        if position.reports_to_id in known and position.reports_to_id != position.pk:
            subordinates.setdefault(position.reports_to_id, []).append(position)
        else:
            tops.append(position)
    return format_html('<ul class="org-tree" aria-label="{}">{}</ul>', gettext("Chart by reporting line"),
                       _join(_position_item(p, subordinates) for p in tops))


# --- outline ------------------------------------------------------------------------------------------


def _outline_position(position, department) -> SafeString:
    reports = ""
    boss = position.reports_to
    if boss is not None:
        where = f" ({boss.department.name})" if boss.department_id != position.department_id else ""
        reports = format_html('<span class="small text-body-secondary">{} {}{}</span>',
                              gettext("Reports to:"), boss.title, where)
    holders = format_html_join(
        "", '<span class="org-holder badge text-bg-light border" title="{}">{}</span>',
        ((staff.employee_no, staff.user.display_name) for staff in position.holder_list),
    ) or format_html('<span class="org-holder text-body-secondary fst-italic">{}</span>', gettext("Vacant"))
    return format_html(
        '<div class="org-position role-{} ps-2 mb-2" data-org-text="{}"><div><span class="fw-semibold">{}</span> '
        '<span class="badge text-bg-secondary">{}</span> {}</div>'
        '<div class="d-flex flex-wrap gap-1 mt-1">{}</div></div>',
        position.role_kind, _search_text(position, department), position.title, position.get_role_kind_display(),
        reports, holders,
    )


def _outline_department(node: OrgNode) -> SafeString:
    department = node.department
    return format_html(
        '<details class="org-department mb-2" open id="department-{}" data-org-text="{}">'
        '<summary class="fw-semibold fs-5">{} <span class="badge rounded-pill text-bg-light border">{}</span>'
        '</summary><div class="org-children mt-2">{}{}</div></details>',
        department.pk, department.name, department.name, _people(node.headcount),
        _join(_outline_position(p, department) for p in node.positions),
        _join(_outline_department(child) for child in node.children),
    )


@register.simple_tag
def org_outline(roots: list[OrgNode]) -> SafeString:
    return _join(_outline_department(root) for root in roots)
