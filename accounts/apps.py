from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Organisation and staff")

    def ready(self):
        from accounts.backends import admin_permissions
        from accounts.visibility import sees_records
        from crm.admin import set_admin_permissions
        from crm.navigation import set_records_test

        # crm, below every app, asks these through hooks: who holds which rights in the admin site, and who
        # sees records (the navigation offers the pages of records only to them)
        set_admin_permissions(admin_permissions)
        set_records_test(sees_records)
