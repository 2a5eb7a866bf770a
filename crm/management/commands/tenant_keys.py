"""What the database still lacks of the tenant keys (crm.tenant_keys), tenant_id in the primary keys and the
one-to-one uniques included: prints, per app, the operations to paste into that app's next migration, or with
`--citus` the calls that would distribute the schema on Citus.

    python manage.py tenant_keys            # after migrate: nothing printed when nothing is missing
    python manage.py tenant_keys --check    # the same, exit status 1 when something is missing
    python manage.py tenant_keys --citus"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from crm import tenant_keys


class Command(BaseCommand):
    help = ("Print the tenant keys, foreign-key indexes and tenant_id in primary keys and one-to-one uniques the "
            "database lacks, as migration operations.")

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="exit with status 1 when something is missing")
        parser.add_argument("--citus", action="store_true",
                            help="print the create_reference_table / create_distributed_table calls instead")

    def handle(self, *args, check=False, citus=False, **options):
        if citus:
            self.stdout.write("\n".join(tenant_keys.citus_script()))
            return
        with connection.cursor() as cursor:
            needed = tenant_keys.missing(cursor)
        if not needed:
            self.stdout.write("Every foreign key has its index, every tenant-to-tenant key its tenant key, and every "
                              "distributed table's primary key and one-to-one unique its tenant_id.")
            return
        order = {label: n for n, label in enumerate(tenant_keys.PROJECT_APPS)}
        for label in sorted(needed, key=order.__getitem__):
            self.stdout.write(f"# {label}: a migration with `atomic = False` (CONCURRENTLY, NOT VALID then "
                              "VALIDATE),\n# after the migrations of the apps its tenant keys point at\n"
                              "from crm.tenant_keys import AddForeignKeyIndex, AddTenantForeignKey, "
                              "AddTenantToPrimaryKey, AddTenantToUnique, AddTenantUnique"
                              "\n\noperations = [")
            for operation in needed[label]:
                self.stdout.write(f"    {operation!r},")
            self.stdout.write("]\n")
        if check:
            raise CommandError(f"tenant keys or indexes missing in {', '.join(sorted(needed))}")
