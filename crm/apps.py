from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("CRM")
    default = True


class CRMAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "crm.admin.CRMAdminSite"
