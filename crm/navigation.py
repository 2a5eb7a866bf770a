"""The navigation: one list, each entry with the right it needs. Apps add their entries here.

A page asked for by htmx to replace only its `<main>` (the boosted workspace, call and appointment pages send
`HX-Target: main`) is rendered without the head and the navigation (`main_only`): the browser keeps its own,
and the call page, asked for all day long, is not rendered twice over."""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str
    perm: str | None = None  # None: every staff member of a tenant
    group: str | None = None  # entries of a group share one menu (a group with one entry the user may open is a link)
    # a page of records shown by role visibility: offered only to someone who sees records (a tenant
    # administrator holds the models' permissions for the administration, but no position: it is always empty)
    records: bool = True
    # a rule of an app above crm on top of the permission (registered with `register_gate`): "club" — the club pages
    # are for who works in the club or reads it (club.selectors.access), not for every holder of its permissions
    gate: str | None = None


REPORTS = _("Reports")
FOLLOW_UPS = _("Follow-ups")
CLUB = _("Club")

# the brand links home; the reports share a menu, so the bar fits a 1200-pixel screen in English
NAV_ITEMS = [
    NavItem("customers:list", _("Customers"), "customers.view_customer"),
    NavItem("leads:list", _("Leads"), "customers.view_lead"),
    NavItem("service:followups", FOLLOW_UPS, "service.view_followup", FOLLOW_UPS),
    NavItem("service:followup_records", _("Follow-up records"), "service.view_followup", FOLLOW_UPS),
    NavItem("service:team", _("Team queues"), "service.assign_followup", FOLLOW_UPS),
    NavItem("service:appointments", _("Appointments"), "service.view_appointment"),
    NavItem("service:surveys", _("Surveys"), "service.view_surveyinvitation"),
    NavItem("service:complaints", _("Complaints"), "service.view_complaint"),
    NavItem("club:members", _("Members"), "club.view_member", CLUB, gate="club"),
    NavItem("club:activities", _("Activities"), "club.view_activity", CLUB, gate="club"),
    NavItem("club:rewards", _("Rewards"), "club.view_reward", CLUB, gate="club"),
    NavItem("club:redemptions", _("Redemptions"), "club.view_redemption", CLUB, gate="club"),
    NavItem("club:services", _("Member services"), "club.view_servicerequest", CLUB, gate="club"),
    NavItem("club:referrals", _("Referrals"), "club.view_referral", CLUB, gate="club"),
    NavItem("club:adjustments", _("Points adjustments"), "club.view_adjustmentrequest", CLUB, gate="club"),
    NavItem("club:handbook", _("Charter and handbook"), "club.view_level", CLUB, gate="club"),
    NavItem("analytics:followups", _("Follow-up report"), "analytics.view_followup_report", REPORTS),
    NavItem("analytics:surveys", _("Survey results"), "analytics.view_survey_report", REPORTS),
    NavItem("analytics:complaints", _("Complaint report"), "service.view_complaint_report", REPORTS),
    NavItem("customers:missing", _("Data quality"), "customers.view_customer", REPORTS),
    NavItem("analytics:club", _("Club operations report"), "club.view_club_report", REPORTS, gate="club"),
    NavItem("analytics:scorecards", _("Scorecards"), "analytics.view_scorecard", REPORTS),
    NavItem("analytics:targets", _("Targets"), "analytics.view_target", REPORTS),
    NavItem("analytics:usage", _("CRM usage"), "analytics.view_usage_report", REPORTS),
    # the manufacturer (DCRM) files: directors and tenant administrators (who hold no position: records=False)
    NavItem("analytics:manufacturer_exports", _("Manufacturer exports"), "analytics.manage_manufacturer_exports",
            REPORTS, records=False),
    NavItem("analytics:retention", _("Churn and retention"), "analytics.view_retention_report", REPORTS),
    NavItem("analytics:segments", _("Segments"), "customers.view_segment", REPORTS),
    NavItem("org_chart", _("Org chart"), "accounts.view_org_chart", records=False),
]


# Whether a user sees records by role visibility (holds a position): the accounts app answers it and installs
# the answer in AccountsConfig.ready() — crm sits below the apps and imports none of them. Until then no entry
# of records is offered.
def _sees_none(user) -> bool:
    return False


_sees_records: Callable[[object], bool] = _sees_none


def set_records_test(sees_records: Callable[[object], bool]) -> None:
    global _sees_records
    _sees_records = sees_records


# The gates of NavItem.gate: name → (user, tenant) → bool, registered by the app that owns the rule in its ready().
# An entry whose gate is not registered is not offered (fail closed).
_GATES: dict[str, Callable[[object, object], bool]] = {}


def register_gate(name: str, passes: Callable[[object, object], bool]) -> None:
    _GATES[name] = passes


def main_only(request) -> bool:
    headers = request.headers
    return (headers.get("HX-Request") == "true" and headers.get("HX-Target") == "main"
            and "HX-History-Restore-Request" not in headers)


def navigation(request):
    if main_only(request):
        return {"main_only": True, "nav_items": []}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(request, "tenant", None) is None:
        return {"nav_items": []}
    records = _sees_records(user)
    path = request.path
    items, groups, gates, links = [], {}, {}, []
    for item in NAV_ITEMS:
        if item.records and not records:
            continue
        if item.gate is not None:
            if item.gate not in gates:
                gate = _GATES.get(item.gate)
                gates[item.gate] = gate is not None and gate(user, request.tenant)
            if not gates[item.gate]:
                continue
        if item.perm is None or user.has_perm(item.perm):
            url = reverse(item.url_name)
            link = {"url": url, "label": item.label, "active": False}
            links.append(link)
            if item.group is None:
                items.append(link)
            elif item.group in groups:
                groups[item.group]["children"].append(link)
            else:
                groups[item.group] = {"label": item.group, "children": [link]}
                items.append(groups[item.group])
    # the entry whose address is the longest start of this page's (the members at /club/ are not lit on /club/rewards/)
    lit = max((link for link in links if path.startswith(link["url"])), key=lambda link: len(link["url"]), default=None)
    if lit is not None:
        lit["active"] = True
    for group in groups.values():
        group["url"] = group["children"][0]["url"]  # where the menu's button leads without JavaScript
        group["active"] = any(child["active"] for child in group["children"])
        if len(group["children"]) == 1:
            group.update(group.pop("children")[0])
    return {"nav_items": items}
