"""The tenant's service settings (service.models.settings.ServiceSettings, "hours and teams"): once named
CallSettings ("calling rules"); service/0019 renamed the model, its table, content type and permissions in
place, so the saved hours and whoever may edit them survive the rename."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django_scopes import scopes_disabled

from accounts.models import Tenant
from accounts.roles import TENANT_ADMIN_GROUP
from service.models import ServiceSettings

ACTIONS = {"add", "change", "delete", "view"}


@pytest.mark.django_db
def test_the_settings_carry_their_new_name_and_the_administrators_still_edit_them():
    assert not ContentType.objects.filter(app_label="service", model="callsettings").exists()
    assert not Permission.objects.filter(codename__endswith="_callsettings").exists()
    granted = Group.objects.get(name=TENANT_ADMIN_GROUP).permissions.filter(content_type__model="servicesettings")
    assert {p.codename for p in granted} == {f"{action}_servicesettings" for action in ACTIONS}
    assert Permission.objects.get(codename="change_servicesettings").name == "Can change hours and teams"


@pytest.mark.django_db(transaction=True)
def test_the_rename_keeps_the_saved_settings_and_the_grants(seeded_transactional):
    with scopes_disabled():
        tenant = Tenant.objects.get(slug="demo")
        kept = ServiceSettings.objects.get(tenant=tenant)
        kept.digest_hour = 7
        kept.save()
    own = Group.objects.create(name="settings editors")  # a grant outside the role groups
    own.permissions.add(Permission.objects.get(codename="change_servicesettings"))

    call_command("migrate", "service", "0018_questionnaire_translations", verbosity=0)
    try:
        with connection.cursor() as cursor:  # the old table, the old permission
            cursor.execute("SELECT digest_hour FROM service_callsettings WHERE tenant_id = %s", [tenant.pk])
            assert cursor.fetchone() == (7,)
        assert own.permissions.filter(codename="change_callsettings").exists()
    finally:  # every app forward again: the way back unapplied the later migrations that depend on service's
        call_command("migrate", verbosity=0)

    with scopes_disabled():
        assert ServiceSettings.objects.get(tenant=tenant).digest_hour == 7
    assert set(own.permissions.values_list("codename", flat=True)) == {"change_servicesettings"}
    assert not Permission.objects.filter(codename__endswith="_callsettings").exists()
    admins = Group.objects.get(name=TENANT_ADMIN_GROUP)
    assert admins.permissions.filter(codename="change_servicesettings").exists()
