"""The adjustment form's one-time token on the requests it makes (crm.forms.OnceField)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_tenant_org_version'),
        ('club', '0005_rules_version_member_fillfactor'),
    ]

    operations = [
        migrations.AddField(
            model_name='adjustmentrequest',
            name='once',
            field=models.CharField(blank=True, default='', editable=False, max_length=43),
        ),
        migrations.AddConstraint(
            model_name='adjustmentrequest',
            constraint=models.UniqueConstraint(condition=models.Q(('once', ''), _negated=True), fields=('tenant', 'once'), name='club_adjust_once'),
        ),
    ]
