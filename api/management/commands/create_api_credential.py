"""`python manage.py create_api_credential --tenant SLUG --name NAME [--read-only] [--scope RESOURCE[:write] ...]
[--expires YYYY-MM-DD] [--allow CIDR ...]`: issue an API credential from the shell, as the admin does, and print
its token once. Without --scope it reaches every resource: read-write, or read with --read-only."""

from datetime import datetime, time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_scopes import scope

from accounts.models import Tenant
from api.models import ApiCredential
from api.scopes import READ, RESOURCES, WRITE, every
from api.services.credentials import api_credential_create


class Command(BaseCommand):
    help = "Create an API credential for a tenant and print its token (shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", metavar="SLUG", required=True)
        parser.add_argument("--name", required=True, help="the system that uses it, e.g. DMS")
        parser.add_argument("--read-only", action="store_true", help="reads only, personal data masked")
        parser.add_argument("--scope", metavar="RESOURCE[:write]", action="append", default=[],
                            help=f"a resource it may read, or with :write change (repeatable; default: all). "
                                 f"Resources: {', '.join(RESOURCES)}")
        parser.add_argument("--expires", metavar="YYYY-MM-DD", help="valid until the start of this day")
        parser.add_argument("--allow", metavar="CIDR", action="append", default=[],
                            help="an address or network it may be used from (repeatable; default: any)")

    def handle(self, *args, **options):
        tenant = Tenant.objects.filter(slug=options["tenant"], is_active=True).first()
        if tenant is None:
            raise CommandError(f"no active tenant with the slug {options['tenant']!r}")
        expires_at = None
        if options["expires"]:
            try:
                day = datetime.strptime(options["expires"], "%Y-%m-%d").date()
            except ValueError:
                raise CommandError("--expires: give a date as YYYY-MM-DD") from None
            expires_at = timezone.make_aware(datetime.combine(day, time.min), tenant.zone)
        scopes = every(READ if options["read_only"] else WRITE)
        if options["scope"]:
            scopes = {}
            for given in options["scope"]:
                resource, _sep, level = given.partition(":")
                if resource not in RESOURCES or level not in ("", WRITE):
                    raise CommandError(f"--scope {given!r}: give one of {', '.join(RESOURCES)}, "
                                       "optionally followed by :write")
                scopes[resource] = WRITE if level else READ
        with scope(tenant=tenant):
            credential = ApiCredential(tenant=tenant, name=options["name"], read_only=options["read_only"],
                                       scopes=scopes, expires_at=expires_at, allowed_networks=options["allow"])
            try:
                token = api_credential_create(credential=credential)
            except ValidationError as error:
                raise CommandError("; ".join(f"{field}: {' '.join(messages)}" for field, messages
                                             in error.message_dict.items())) from None
        kind = "read-only" if credential.read_only else "read-write"
        self.stderr.write(f"{tenant.slug}: {kind} credential {credential.name!r} ({credential.prefix}) created; "
                          "its token, shown only this once:")
        self.stdout.write(token)
