"""Role kinds as Django groups with model permissions.

A user's permissions come from the groups of the role kinds of the positions they hold (see
accounts.backends.StaffBackend), plus the groups they are put in directly (tenant administrators).
Groups are platform-wide; tenant administrators cannot edit them. Each app that adds permissions
extends ROLE_PERMISSIONS and adds a data migration that calls `sync_role_groups`."""

from accounts.models import RoleKind

TENANT_ADMIN_GROUP = "tenant-admin"
ROLE_GROUP_PREFIX = "role:"


def role_group_name(kind: str) -> str:
    return f"{ROLE_GROUP_PREFIX}{kind}"


_ORG_CHART = ["accounts.view_org_chart"]
_ADMIN_ORG = [
    f"accounts.{action}_{model}"
    for model in ("department", "position", "positionassignment", "staff", "user")
    for action in ("add", "change", "delete", "view")
] + ["accounts.change_tenant", "accounts.view_tenant"]

_CUSTOMER_MODELS = ("customer", "vehicle", "purchase", "servicevisit", "customernote", "customerdocument", "lead")
_CUSTOMERS_READ = [f"customers.view_{model}" for model in _CUSTOMER_MODELS]
_CUSTOMERS_WORK = _CUSTOMERS_READ + [
    f"customers.{action}_{model}" for model in _CUSTOMER_MODELS for action in ("add", "change")
]
_ADMIN_CUSTOMERS = [f"customers.{action}_{model}" for model in ("tag", "completenessrule", "lifecyclesettings")
                    for action in ("add", "change", "delete", "view")]
_LEADING = ["customers.reveal_mobile", "customers.merge_customer", "customers.export_customer",
            "customers.import_customer", "customers.assign_lead"]

_FOLLOWUPS_READ = ["service.view_followup", "service.view_followupplan", "service.view_followupcall"]
_FOLLOWUPS_WORK = _FOLLOWUPS_READ + ["service.change_followup", "service.add_followupcall",
                                     "service.add_contactoptout", "service.view_contactoptout"]
# pause, create and edit plans; see the team's queues and reassign their follow-ups
_FOLLOWUPS_LEADING = ["service.change_followupplan", "service.add_followupplan", "service.assign_followup"]
_SERVICE_ADMIN_MODELS = ("followupplan", "contactoptout", "questionnaire", "questionnaireversion", "question",
                         "servicesettings", "appointment", "survey", "surveyinvitation", "complaintcategory",
                         "complaintpolicy", "workcalendarday")
_ADMIN_SERVICE = [f"service.{action}_{model}" for model in _SERVICE_ADMIN_MODELS
                  for action in ("add", "change", "delete", "view")]
# appointments (预约): specialists, managers and directors book them and mark arrivals, no-shows and
# cancellations; analysts read them
_APPOINTMENTS_READ = ["service.view_appointment"]
_APPOINTMENTS_WORK = _APPOINTMENTS_READ + ["service.add_appointment", "service.change_appointment"]

# satisfaction surveys: directors, managers, specialists and analysts read the invitations and results (a
# specialist those of their own customers and of the programmes their team runs); directors and managers send
# a failed invitation again
_SURVEYS_READ = ["service.view_survey", "service.view_surveyinvitation"]
_SURVEYS_LEADING = _SURVEYS_READ + ["service.change_surveyinvitation"]

# complaints (投诉): directors, managers and specialists register and work on them (each on what they see);
# analysts read them masked
_COMPLAINTS_READ = ["service.view_complaint"]
_COMPLAINTS_WORK = _COMPLAINTS_READ + ["service.add_complaint", "service.change_complaint"]

# the club (客户俱乐部): directors, managers and specialists may work on members, cards, points, rewards, activities,
# member services and referrals — the club pages let them when they work in the club's team (club.selectors.access);
# analysts read it all masked; everyone sees a customer's level and balance on the customer page. Managers and
# directors approve large manual credits. The tenant administrator edits the programme, levels, rules and catalogue.
_CLUB_MODELS = ("member", "card", "pointentry", "redemption", "activity", "registration", "servicerequest",
                "referral", "adjustmentrequest")
_CLUB_READ = [f"club.view_{model}" for model in _CLUB_MODELS] + ["club.view_reward", "club.view_level",
                                                                  "club.view_club_report"]
_CLUB_WORK = _CLUB_READ + [f"club.{action}_{model}" for model in _CLUB_MODELS for action in ("add", "change")]
_CLUB_LEADING = ["club.approve_adjustment"]
_CLUB_ADMIN_MODELS = ("programme", "level", "levelbenefit", "pointrule", "handbookversion", "servicequota", "reward")
_ADMIN_CLUB = [f"club.{action}_{model}" for model in _CLUB_ADMIN_MODELS
               for action in ("add", "change", "delete", "view")]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    role_group_name(RoleKind.DIRECTOR): _ORG_CHART + _CUSTOMERS_WORK + _LEADING + _FOLLOWUPS_WORK + _FOLLOWUPS_LEADING
    + _APPOINTMENTS_WORK + _SURVEYS_LEADING + _COMPLAINTS_WORK,
    role_group_name(RoleKind.MANAGER): _ORG_CHART + _CUSTOMERS_WORK + _LEADING + _FOLLOWUPS_WORK + _FOLLOWUPS_LEADING
    + _APPOINTMENTS_WORK + _SURVEYS_LEADING + _COMPLAINTS_WORK,
    role_group_name(RoleKind.SPECIALIST): _ORG_CHART + _CUSTOMERS_WORK + _FOLLOWUPS_WORK + _APPOINTMENTS_WORK
    + _SURVEYS_READ + _COMPLAINTS_WORK,
    role_group_name(RoleKind.ANALYST): _ORG_CHART + _CUSTOMERS_READ + ["customers.export_customer"] + _FOLLOWUPS_READ
    + _APPOINTMENTS_READ + _SURVEYS_READ + _COMPLAINTS_READ,
    TENANT_ADMIN_GROUP: _ORG_CHART + _ADMIN_ORG + _ADMIN_CUSTOMERS + _ADMIN_SERVICE + _ADMIN_CLUB,
}
for _kind in (RoleKind.DIRECTOR, RoleKind.MANAGER, RoleKind.SPECIALIST):
    ROLE_PERMISSIONS[role_group_name(_kind)] = ROLE_PERMISSIONS[role_group_name(_kind)] + _CLUB_WORK
for _kind in (RoleKind.DIRECTOR, RoleKind.MANAGER):
    ROLE_PERMISSIONS[role_group_name(_kind)] += _CLUB_LEADING
ROLE_PERMISSIONS[role_group_name(RoleKind.ANALYST)] = ROLE_PERMISSIONS[role_group_name(RoleKind.ANALYST)] + _CLUB_READ

# the follow-up report, the survey results and the complaint report (analytics): every role kind reads them; a
# specialist sees only their own figures. Directors and managers import the manufacturer's survey results.
_REPORTS = ["analytics.view_followup_report", "analytics.view_survey_report", "service.view_complaint_report"]
for _kind in (RoleKind.DIRECTOR, RoleKind.MANAGER, RoleKind.SPECIALIST, RoleKind.ANALYST):
    ROLE_PERMISSIONS[role_group_name(_kind)] = ROLE_PERMISSIONS[role_group_name(_kind)] + _REPORTS
for _kind in (RoleKind.DIRECTOR, RoleKind.MANAGER):
    ROLE_PERMISSIONS[role_group_name(_kind)] += ["analytics.import_manufacturer_results"]
# the CRM usage report (how colleagues use the system): directors, managers (their department subtree) and
# analysts; a specialist's own logins and calls are not a report of theirs to read
for _kind in (RoleKind.DIRECTOR, RoleKind.MANAGER, RoleKind.ANALYST):
    ROLE_PERMISSIONS[role_group_name(_kind)] += ["analytics.view_usage_report"]

# targets and scorecards (绩效考核): directors set targets for everyone, managers for their department subtree
# (analytics.services.targets); analysts read them; every role kind sees the scorecards it may (a specialist their
# own)
for _kind in (RoleKind.DIRECTOR, RoleKind.MANAGER, RoleKind.SPECIALIST, RoleKind.ANALYST):
    ROLE_PERMISSIONS[role_group_name(_kind)] += ["analytics.view_scorecard"]
for _kind in (RoleKind.DIRECTOR, RoleKind.MANAGER, RoleKind.ANALYST):
    ROLE_PERMISSIONS[role_group_name(_kind)] += ["analytics.view_target"]
for _kind in (RoleKind.DIRECTOR, RoleKind.MANAGER):
    ROLE_PERMISSIONS[role_group_name(_kind)] += ["analytics.add_target", "analytics.change_target",
                                                 "analytics.delete_target"]

# the manufacturer export (主机厂 DCRM): its files hold full personal data, unmasked, as the dealer's agreement
# with the manufacturer requires; only directors and tenant administrators configure, run and download them
_MANUFACTURER_EXPORTS = ["analytics.manage_manufacturer_exports"]
ROLE_PERMISSIONS[role_group_name(RoleKind.DIRECTOR)] += _MANUFACTURER_EXPORTS
ROLE_PERMISSIONS[TENANT_ADMIN_GROUP] += _MANUFACTURER_EXPORTS

# churn and retention (analytics): directors, managers (their teams' customers) and analysts read it
for _kind in (RoleKind.DIRECTOR, RoleKind.MANAGER, RoleKind.ANALYST):
    ROLE_PERMISSIONS[role_group_name(_kind)] += ["analytics.view_retention_report"]

# customer segments (客户分群, analytics): directors, managers and analysts build and save them and see each one's
# size and profile over the customers they see; directors and managers use them in campaigns, survey sends and
# club activities (with those permissions)
for _kind in (RoleKind.DIRECTOR, RoleKind.MANAGER, RoleKind.ANALYST):
    ROLE_PERMISSIONS[role_group_name(_kind)] += [f"customers.{action}_segment"
                                                 for action in ("add", "change", "delete", "view")]
# one-off surveys (service.views.surveys.survey_send): directors and managers send one to a segment's customers
# they see (a manager's kept to their departments)
for _kind in (RoleKind.DIRECTOR, RoleKind.MANAGER):
    ROLE_PERMISSIONS[role_group_name(_kind)] += ["service.add_survey"]

# the REST API's credentials (api): the tenant administrator creates, lists and revokes them in the admin
ROLE_PERMISSIONS[TENANT_ADMIN_GROUP] += [f"api.{action}_apicredential"
                                         for action in ("add", "change", "delete", "view")]
# the team-chat channels (api): the tenant administrator sets them up and sends test messages in the admin
ROLE_PERMISSIONS[TENANT_ADMIN_GROUP] += [f"api.{action}_chatchannel" for action in ("add", "change", "delete", "view")]
# signed webhooks (api): the tenant administrator manages the endpoints, reads the delivery log and replays messages
ROLE_PERMISSIONS[TENANT_ADMIN_GROUP] += [f"api.{action}_webhookendpoint"
                                         for action in ("add", "change", "delete", "view")]
ROLE_PERMISSIONS[TENANT_ADMIN_GROUP] += ["api.view_webhookmessage", "api.change_webhookmessage",
                                         "api.view_webhookattempt"]


def sync_role_groups(apps) -> None:
    """Make the groups hold exactly ROLE_PERMISSIONS (from data migrations, or with the live registry)."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)  # unset in a migration's registry
        app_config.models_module = models_module or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            # an app migrated later is not there yet: its own migration syncs again
            wanted.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)
