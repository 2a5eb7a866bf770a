import django.db.models.deletion
from django.db import migrations, models


def sync(apps, schema_editor):
    from accounts.roles import sync_role_groups

    sync_role_groups(apps)  # specialists read the surveys of their own customers and of their team's programmes


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
        ("service", "0016_survey_reminder_retries"),
    ]

    operations = [
        migrations.AddField(
            model_name="survey",
            name="department",
            field=models.ForeignKey(
                blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL,
                related_name="+", to="accounts.department", verbose_name="run by",
                help_text="The team that runs this survey: its managers and specialists (and the managers above "
                          "it) see all of its invitations and results. Consultants and advisors see their own "
                          "customers' either way."),
        ),
        migrations.RunPython(sync, migrations.RunPython.noop),
    ]
