"""Generate due follow-ups now, as the hourly beat schedule does: `generate_followups [--tenant SLUG]`."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_scopes import scope

from accounts.models import Tenant
from service.services.generation import followups_generate


class Command(BaseCommand):
    help = "Create the follow-ups that the tenants' active plans call for today, and print what was created."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", metavar="SLUG", help="only this tenant (default: every active tenant)")

    def handle(self, *args, **options):
        tenants = Tenant.objects.filter(is_active=True).order_by("slug")
        if options["tenant"]:
            tenants = tenants.filter(slug=options["tenant"])
            if not tenants:
                raise CommandError(f"No active tenant {options['tenant']!r}.")
        for tenant in tenants:
            with scope(tenant=tenant), timezone.override(tenant.timezone):
                result = followups_generate(tenant)
            for name, (created, existing) in result.plans.items():
                self.stdout.write(f"{tenant.slug}: {name}: {created} created, {existing} already existed")
            self.stdout.write(f"{tenant.slug}: {result.created} created, {result.existing} already existed, "
                              f"{result.expired} expired")
