"""Demo tenants `demo` and `acme` with a realistic Chinese dealership org chart (crm.demo.tenants), and their
customers, leads, plans, calls, surveys, appointments and complaints (the other crm.demo modules).

Idempotent: everything is found by its natural key first, so a second run creates nothing."""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection
from django.utils import timezone
from django_scopes import scope

from accounts.models import Tenant
from analytics.services.dashboard_rollups import dashboard_rollups_refresh
from analytics.services.followup_rollups import followup_rollups_rebuild
from analytics.services.survey_rollups import survey_rollups_rebuild
from crm.demo.appointments import seed_appointments
from crm.demo.calls import seed_call_history
from crm.demo.club import seed_club
from crm.demo.complaints import seed_complaint_setup, seed_complaints
from crm.demo.customers import seed_customers
from crm.demo.leads import seed_leads
from crm.demo.service import seed_call_setup, seed_plans, seed_surveys
from crm.demo.surveys import seed_survey_responses
from crm.demo.targets import seed_targets
from crm.demo.tenants import seed_tenants
from customers.services.quality import completeness_seed
from service.services.generation import followups_generate

DEFAULT_CUSTOMERS = 2000


def vacuum_customer_tables() -> None:
    """After a bulk load the visibility map is empty, so list counts could not be answered from the
    indexes until autovacuum came by; do it now (outside any transaction)."""
    if connection.in_atomic_block:  # VACUUM cannot run inside a transaction (a test's): autovacuum will come
        return
    tables = [m._meta.db_table for m in apps.get_app_config("customers").get_models()]
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {', '.join(tables)}")  # seed_customers has analyzed them


class Command(BaseCommand):
    help = "Create the demo tenants demo and acme with staff, org chart and the five demo users."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS, metavar="N",
                            help="customers in demo (acme gets N/5); topped up, never duplicated "
                                 f"(default {DEFAULT_CUSTOMERS})")

    def handle(self, *args, **options):
        self.created = seed_tenants()
        self.stdout.write(f"seed_demo: {self.created} rows created" if self.created
                          else "seed_demo: demo data already present, nothing created")
        customers = options["customers"]
        for slug, share in (("demo", 1), ("acme", 5)):
            tenant = Tenant.objects.get(slug=slug)
            with scope(tenant=tenant):
                made = seed_customers(tenant, customers // share, stdout=self.stdout)
                seed_leads(tenant, customers // share, stdout=self.stdout)  # leads (集客登记) with history
                completeness_seed(tenant=tenant, rules=made > 0, stdout=self.stdout)  # default rules, scores
                seed_plans(tenant)  # the common follow-up plans, and what they call for today
                seed_call_setup(tenant)  # calling hours and the plans' questionnaires
                seed_surveys(tenant)  # the sales and service satisfaction surveys
                seed_appointments(tenant)  # appointments (预约) around today, before the reminders
                with timezone.override(tenant.timezone):
                    generated = followups_generate(tenant)
                    seed_call_history(tenant)  # three months of past calls, made at the time
                    followup_rollups_rebuild(tenant=tenant)  # the follow-up report's figures
                    seed_survey_responses(tenant)  # six months of answered surveys
                    survey_rollups_rebuild(tenant=tenant)  # the survey results' figures
                    seed_complaint_setup(tenant)  # complaint categories, service levels, the complaints team
                    seed_complaints(tenant)  # half a year of complaints in every state
                    seed_club(tenant, stdout=self.stdout)  # the club: programme, rewards, members, their points
                    dashboard_rollups_refresh(tenant=tenant, rebuild=True)  # the dashboards' figures
                    seed_targets(tenant)  # targets the scorecards pace
                self.stdout.write(f"seed_demo: {slug}: {generated.created} follow-ups generated")
            self.stdout.write(f"seed_demo: {slug}: {made} customers created")
            if made:
                vacuum_customer_tables()
