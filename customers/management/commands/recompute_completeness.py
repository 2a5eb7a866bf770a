"""`python manage.py recompute_completeness [--tenant SLUG]`: rescore every active customer against
the tenant's completeness rules, one set-based UPDATE per tenant (what the Celery task runs after a
rule changes in the admin)."""

import time

from django.core.management.base import BaseCommand, CommandError
from django_scopes import scope

from accounts.models import Tenant
from customers.services.quality import completeness_recompute


class Command(BaseCommand):
    help = "Recompute the completeness score of every active customer (of one tenant with --tenant)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", metavar="SLUG", help="only this tenant")

    def handle(self, *args, **options):
        tenants = Tenant.objects.filter(is_active=True).order_by("slug")
        if options["tenant"]:
            tenants = tenants.filter(slug=options["tenant"])
            if not tenants.exists():
                raise CommandError(f"no active tenant with the slug {options['tenant']!r}")
        for tenant in tenants:
            started = time.monotonic()
            with scope(tenant=tenant):
                changed = completeness_recompute(tenant=tenant)
            self.stdout.write(f"recompute_completeness: {tenant.slug}: {changed} customers rescored "
                              f"in {time.monotonic() - started:.1f}s")
