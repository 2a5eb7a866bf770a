"""Month rollups of the follow-up report, filled from the day rollups already there."""

import django.db.models.deletion
from django.db import migrations, models


FILL = """
INSERT INTO analytics_followupmonth (tenant_id, created_at, updated_at, month, plan_id, staff_id, department_id, due,
                                     done, on_time, calls, reached, need, purchase_intent, complaint, grievance,
                                     proposals)
SELECT tenant_id, now(), now(), date_trunc('month', day)::date, plan_id, staff_id, department_id, sum(due),
       sum(done), sum(on_time), sum(calls), sum(reached), sum(need), sum(purchase_intent), sum(complaint),
       sum(grievance), sum(proposals)
  FROM analytics_followupday GROUP BY 1, 4, 5, 6, 7;
INSERT INTO analytics_answermonth (tenant_id, created_at, updated_at, month, question_id, value, plan_id, staff_id,
                                   department_id, count)
SELECT tenant_id, now(), now(), date_trunc('month', day)::date, question_id, value, plan_id, staff_id,
       department_id, sum(count)
  FROM analytics_answerday GROUP BY 1, 4, 5, 6, 7, 8, 9;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_role_groups'),
        ('analytics', '0002_role_permissions'),
        ('service', '0008_campaigns'),
    ]

    operations = [
        migrations.CreateModel(
            name='AnswerMonth',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                ('value', models.CharField(max_length=200, verbose_name='answer')),
                ('count', models.PositiveIntegerField(default=0, verbose_name='count')),
                ('month', models.DateField(verbose_name='month')),
                ('department', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.department', verbose_name='department')),
                ('plan', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='service.followupplan', verbose_name='plan')),
                ('question', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='service.question', verbose_name='question')),
                ('staff', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.staff', verbose_name='staff member')),
                ('tenant', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, to='accounts.tenant', verbose_name='company')),
            ],
            options={
                'verbose_name': 'answer month',
                'verbose_name_plural': 'answer months',
                'constraints': [models.UniqueConstraint(fields=('tenant', 'month', 'question', 'value', 'plan', 'staff', 'department'), name='answermonth_once', nulls_distinct=False)],
            },
        ),
        migrations.CreateModel(
            name='FollowUpMonth',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                ('due', models.PositiveIntegerField(default=0, verbose_name='due')),
                ('done', models.PositiveIntegerField(default=0, verbose_name='completed')),
                ('on_time', models.PositiveIntegerField(default=0, verbose_name='completed on time')),
                ('calls', models.PositiveIntegerField(default=0, verbose_name='calls')),
                ('reached', models.PositiveIntegerField(default=0, verbose_name='reached')),
                ('need', models.PositiveIntegerField(default=0, verbose_name='needs')),
                ('purchase_intent', models.PositiveIntegerField(default=0, verbose_name='purchase intents')),
                ('complaint', models.PositiveIntegerField(default=0, verbose_name='complaints')),
                ('grievance', models.PositiveIntegerField(default=0, verbose_name='grievances')),
                ('proposals', models.PositiveIntegerField(default=0, verbose_name='proposals')),
                ('month', models.DateField(verbose_name='month')),
                ('department', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.department', verbose_name='department')),
                ('plan', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='service.followupplan', verbose_name='plan')),
                ('staff', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.staff', verbose_name='staff member')),
                ('tenant', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, to='accounts.tenant', verbose_name='company')),
            ],
            options={
                'verbose_name': 'follow-up month',
                'verbose_name_plural': 'follow-up months',
                'constraints': [models.UniqueConstraint(fields=('tenant', 'month', 'plan', 'staff', 'department'), name='followupmonth_once', nulls_distinct=False)],
            },
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
    ]
