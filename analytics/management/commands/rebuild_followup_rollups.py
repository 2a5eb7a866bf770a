"""python manage.py rebuild_followup_rollups [--tenant SLUG] [--from YYYY-MM-DD] [--to YYYY-MM-DD]

Also rebuilds the survey results' rollups (every occasion; the dates apply to the follow-up report) and the
dashboards' rollup (every day of complaints, leads and members; today's snapshots), the CRM usage report's
rollup (every day from the first login or call) and the churn and retention rollup (every month from the first
purchase or visit)."""

from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_scopes import scope

from accounts.models import Tenant
from analytics.services.dashboard_rollups import dashboard_rollups_refresh
from analytics.services.followup_rollups import followup_rollups_rebuild
from analytics.services.lifecycle_rollups import lifecycle_rollups_refresh
from analytics.services.survey_rollups import survey_rollups_rebuild
from analytics.services.usage import usage_rollups_refresh


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {value}") from None


class Command(BaseCommand):
    help = ("Recompute the follow-up report's rollups from the raw follow-ups, calls and answers: by default "
            "everything from each tenant's first follow-up on; the survey results', the dashboards', the usage "
            "report's and the retention rollups.")

    def add_arguments(self, parser):
        parser.add_argument("--tenant", metavar="SLUG", help="only this tenant")
        parser.add_argument("--from", dest="start", type=_day, metavar="YYYY-MM-DD")
        parser.add_argument("--to", dest="end", type=_day, metavar="YYYY-MM-DD")

    def handle(self, *args, tenant=None, start=None, end=None, **options):
        tenants = Tenant.objects.filter(is_active=True).order_by("slug")
        if tenant:
            tenants = tenants.filter(slug=tenant)
            if not tenants.exists():
                raise CommandError(f"no active tenant {tenant!r}")
        for each in tenants:
            with scope(tenant=each), timezone.override(each.timezone):
                try:
                    done = followup_rollups_rebuild(tenant=each, start=start, end=end)
                    surveys = survey_rollups_rebuild(tenant=each)
                    dashboards = dashboard_rollups_refresh(tenant=each, rebuild=True)
                    usage = usage_rollups_refresh(tenant=each, rebuild=True)
                    retention = lifecycle_rollups_refresh(tenant=each, rebuild=True)
                except ValidationError as error:
                    raise CommandError(" ".join(error.messages)) from None
            self.stdout.write(f"{each.slug}: {done.start} to {done.end}: {done.followup_rows} follow-up rows, "
                              f"{done.answer_rows} answer rows; surveys {surveys.start} to {surveys.end}: "
                              f"{surveys.figure_rows} rows, {surveys.answer_rows} answer rows; "
                              f"dashboards: {dashboards.rows} rows; usage: {usage.rows} rows; "
                              f"retention: {retention.month_rows} month rows, "
                              f"{retention.flow_rows} flow rows, {retention.cohort_rows} cohort rows")
