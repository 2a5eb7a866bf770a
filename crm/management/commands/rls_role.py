"""`python manage.py rls_role [--role crm_app] [--password-env CRM_APP_PASSWORD]`: create or update the application's
database role that the row-level-security policies bind (crm/rls.py). Run it as the owner of the tables — the role
`migrate` runs as — after `migrate`; production then connects the web and the workers as this role (README)."""

import os

from django.core.management.base import BaseCommand, CommandError

from crm import rls


class Command(BaseCommand):
    help = "Create the non-owner database role the application runs as under the row-level-security policies."

    def add_arguments(self, parser):
        parser.add_argument("--role", default=rls.APP_ROLE, help=f"the role's name (default {rls.APP_ROLE})")
        parser.add_argument("--password-env", metavar="VAR",
                            help="the environment variable holding its password (without it: NOLOGIN)")
        parser.add_argument("--database", default="default", help="the database alias (default: default)")

    def handle(self, *args, **options):
        password = None
        if options["password_env"]:
            password = os.environ.get(options["password_env"], "")
            if not password:
                raise CommandError(f"{options['password_env']} is unset or empty")
        rls.app_role_grant(role=options["role"], password=password, using=options["database"])
        changed = rls.apply_policies(options["database"])
        login = "can log in" if password else "NOLOGIN"
        self.stdout.write(f"rls_role: {options['role']} ({login}) may read and write every table, bound by the "
                          f"tenant_isolation policies ({len(rls.tenant_tables())} tenant tables; "
                          f"{len(changed)} policies added now)")
