"""The tenant's service settings are named for what they hold: `CallSettings` ("calling rules") has long held the
survey, workshop and office hours, the digest hour and the purchase-intent and complaints teams as well, so it
becomes `ServiceSettings`, labelled "hours and teams". The table, its content type and its four permissions are
renamed in place: the rows stay, and so does everyone the permissions were granted to (role groups, a tenant
administrator's own grants)."""

from django.conf import settings
from django.db import migrations

ACTIONS = ("add", "change", "delete", "view")


def _rename_permissions(apps, old: str, new: str, label: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    # the content type is renamed right after RenameModel (contenttypes injects that step); either name will do
    content_types = ContentType.objects.filter(app_label="service", model__in=[old, new])
    for action in ACTIONS:
        before = Permission.objects.filter(content_type__in=content_types, codename=f"{action}_{old}").first()
        if before is None:
            continue
        after = Permission.objects.filter(content_type__in=content_types, codename=f"{action}_{new}").first()
        if after is None:
            before.codename, before.name = f"{action}_{new}", f"Can {action} {label}"
            before.save(update_fields=["codename", "name"])
            continue
        # both exist (the new one made by a post-migrate run): hand the grants over, drop the old one
        for group in Group.objects.filter(permissions=before):
            group.permissions.add(after)
        for user in User.objects.filter(user_permissions=before):
            user.user_permissions.add(after)
        before.delete()


def forwards(apps, schema_editor):
    from accounts.roles import sync_role_groups

    _rename_permissions(apps, "callsettings", "servicesettings", "hours and teams")
    sync_role_groups(apps)


def backwards(apps, schema_editor):
    _rename_permissions(apps, "servicesettings", "callsettings", "calling rules")


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("service", "0018_questionnaire_translations"),
    ]

    operations = [
        migrations.RenameModel(old_name="CallSettings", new_name="ServiceSettings"),
        migrations.AlterModelOptions(
            name="servicesettings",
            options={"verbose_name": "hours and teams", "verbose_name_plural": "hours and teams"},
        ),
        migrations.RunPython(forwards, backwards),
    ]
