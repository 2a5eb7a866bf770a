from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("CRM")
    default = True

    def ready(self):
        from crm import (
            replica,  # noqa: F401  (its connection_created receiver guards the replica against writes)
            rls,
            tenant_keys,
        )
        from crm.forms import install_date_range

        rls.connect()  # row-level-security policies after migrate; the tenant setting when settings.DB_RLS
        install_date_range()  # every date field of every form refuses years outside 1900–2100
        tenant_keys.single_column_keys_off()  # between tenant-owned tables the composite twin is the only key


class CRMAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "crm.admin.CRMAdminSite"
