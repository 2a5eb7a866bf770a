from django.db import migrations


def sync(apps, schema_editor):
    from accounts.roles import sync_role_groups

    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
        # after every other app's permissions exist: the groups are synced to ROLE_PERMISSIONS as a whole
        ("analytics", "0011_segments"),
        ("club", "0007_activity_segment"),
        ("service", "0020_survey_segments"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
