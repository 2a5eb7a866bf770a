from django.db import migrations


def sync(apps, schema_editor):
    from accounts.roles import sync_role_groups

    sync_role_groups(apps)  # the segments' permissions


class Migration(migrations.Migration):

    dependencies = [
        ("customers", "0016_segments"),
        ("analytics", "0010_lifecycle"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
