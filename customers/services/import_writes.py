"""Writing a planned customer import (customers.services.import_plan) to the database, fast.

* New customers are written with COPY, batch by batch, with primary keys taken from the sequence first so
  that their vehicles and tag links reference them without a round trip; each with its completeness score
  (customers.completeness's definition), through a temporary table. Customers to update are changed
  with one `UPDATE … FROM unnest(…)` per batch, only where the file changes something.
* Batches in their own transactions are written side by side by writer threads, one connection each,
  while the next chunk of the file is still being read (not for all or nothing: that is one transaction).
* pghistory's row-by-row triggers stand aside (crm.bulk.bulk_history); the same event rows are written
  set-based after each statement, under one pghistory context that names the importer.
* Every customer created is announced (crm.events customer.created) in its batch's transaction, on the
  connection that wrote it (a writer thread's own), loaded back as stored; a batch rolled back announces nothing.
  When nobody listens in the tenant (crm.events.listening, asked once per run) nothing is loaded.
* Progress goes to the job row through a connection of its own, so the page sees it even while an
  all-or-nothing import holds everything in one transaction.
* Someone saving a customer with a mobile or VIN of the file meanwhile makes its batch fail: the batch is
  written again item by item and the conflicting rows are rejected (all or nothing: nothing is imported)."""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import uuid
from collections import Counter
from collections.abc import Callable

import psycopg2
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scope

from accounts.models import User
from crm import rls
from crm.bulk import NULL, bulk_history, copy_rows, copy_text, history_events, take_ids
from crm.events import emit_many, listening
from customers.completeness import score_sql
from customers.models import Customer, ImportJob, JobStatus, Vehicle
from customers.services.import_checks import COMPANY_WORDS, Row
from customers.services.import_plan import (
    CustomerChange,
    NewCustomer,
    Plan,
    Planner,
    import_plan_build,
    import_report_file,
    import_rows_keep,
)

logger = logging.getLogger(__name__)

BATCH = 5_000  # rows written per COPY / UPDATE, and between two progress updates
WRITERS = 3  # connections writing batches side by side


class Progress:
    """Writes processed_rows through a connection of its own: visible while the import's transaction runs."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.conn = None
        try:
            self.conn = psycopg2.connect(**{k: v for k, v in connection.get_connection_params().items()
                                            if k != "cursor_factory"})
        except psycopg2.Error:  # progress is a nicety; the import goes on without it
            logger.warning("import %s: no separate connection for progress", job.pk)
            self.conn = None

    def __call__(self, processed: int) -> None:
        if self.conn is None:
            return
        try:
            # one transaction: the timeout and the tenant (row-level security, crm/rls.py) end with it (pooler-safe)
            with self.conn, self.conn.cursor() as cursor:
                cursor.execute(f"{rls.setting_sql(self.job.tenant_id)}; "
                               "SELECT set_config('lock_timeout', '2s', true); "  # never wait long on the job row
                               f"UPDATE {ImportJob._meta.db_table} SET processed_rows = %s, updated_at = now() "
                               "WHERE id = %s AND tenant_id = %s AND status = %s",
                               [processed, self.job.pk, self.job.tenant_id, JobStatus.RUNNING])
        except psycopg2.Error:
            logger.warning("import %s: progress not recorded", self.job.pk, exc_info=True)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()



class Conflict(Exception):
    """Someone saved a customer with a mobile or VIN of the file while it was imported."""


NEW_CUSTOMERS = "import_new_customer"  # a temporary table, one per connection
PLANNER_SETTINGS = {"enable_hashjoin": "off", "enable_mergejoin": "off", "jit": "off"}


class Importer:
    def __init__(self, job: ImportJob, user: User | None, progress: Callable[[int], None]):
        self.job = job
        self.user = user
        self.progress = progress
        self.tenant_id = job.tenant_id
        self.now = timezone.now()
        self.stamp = self.now.isoformat()
        self.context_id = str(uuid.uuid4())  # one pghistory context for the whole run
        self.context_metadata = json.dumps({"user": user.pk if user else None, "import": job.pk})
        self.tag_ids: dict[str, int] = {}
        self.plan: Plan | None = None  # while reading and writing side by side
        self.conflicts: list[tuple[Row, str]] = []  # rows refused while writing, with what they were to be
        self.score_sql = score_sql(job.tenant)
        self.announce = False  # whether the customers created are announced (asked once in run())

    # -- the steps
    def run(self) -> ImportJob:
        job = self.job
        staff = getattr(self.user, "staff", None)
        if (self.user is None or not self.user.is_active or staff is None or not staff.is_active
                or not self.user.has_perm("customers.import_customer")):
            raise ValidationError(_("The person who started this import may no longer import customers."))
        # one cheap question per run: when nobody hears customer.created, the batches load nothing to announce
        self.announce = listening(self.tenant_id, "customer.created")
        # Batches in their own transactions are written side by side while the file is still being read,
        # one connection per writer. Not inside one transaction (all or nothing, or a test's): one
        # connection holds it, so the file is read first and then written.
        if not job.all_or_nothing and not connection.in_atomic_block and WRITERS > 1:
            plan = self._read_and_write()
        else:
            plan = self._read_then_write()
        counts = Counter(plan.counts)
        for row, outcome in self.conflicts:
            counts[outcome] -= 1
            counts["reject"] += 1
            plan.keep_rejected(row)  # after the rows rejected while reading, in the report too
        if job.all_or_nothing and plan.counts["reject"]:
            counts = Counter(reject=counts["reject"])  # nothing was written
        report = import_report_file(plan) if plan.rejected else None
        job.created_count, job.updated_count = counts["create"], counts["update"]
        job.skipped_count, job.rejected_count = counts["skip"], counts["reject"]
        job.processed_rows, job.total_rows = plan.total, plan.total
        job.status, job.finished_at, job.error = JobStatus.DONE, timezone.now(), ""
        # the check's report and rows stay until the run is done: done, its report and rows replace them in
        # one transaction (a worker dying in between leaves the check's, consistent with a job not done)
        previous = job.report.name if job.report else ""
        if report is not None:
            job.report.save("report.csv", report, save=False)
        else:
            job.report = ""
        with transaction.atomic():
            job.save(update_fields=["created_count", "updated_count", "skipped_count", "rejected_count",
                                    "processed_rows", "total_rows", "status", "finished_at", "error", "report",
                                    "updated_at"])
            import_rows_keep(job, plan, sorted(plan.rejected, key=lambda r: r.line))  # the report page shows them all
            if previous and previous != job.report.name:
                storage = job.report.storage
                transaction.on_commit(lambda: storage.delete(previous))
        return job

    def progress_base(self) -> int:
        """Rows read so far that need no writing: skipped and rejected ones."""
        return self.plan.counts["skip"] + self.plan.counts["reject"] if self.plan is not None else 0

    def _read_then_write(self) -> Plan:
        job = self.job
        plan = import_plan_build(job, user=self.user, keep_preview=0)
        ImportJob.objects.filter(pk=job.pk).update(total_rows=plan.total)
        if job.all_or_nothing and plan.rejected:
            return plan  # nothing is written
        per_batch = not job.all_or_nothing
        try:
            with transaction.atomic() if job.all_or_nothing else contextlib.nullcontext():
                with connection.cursor() as cursor:
                    self._in_transaction(per_batch, lambda: self._prepare(cursor, plan.tag_names))
                    done = plan.counts["reject"] + plan.counts["skip"]  # nothing to write for these
                    self.progress(done)
                    for work, write in ((plan.creates, self._write_creates),
                                        (list(plan.updates.values()), self._write_updates)):
                        for start in range(0, len(work), BATCH):
                            batch = work[start:start + BATCH]
                            self._batch(cursor, batch, write, per_batch)
                            done += sum(len(item.rows) for item in batch)
                            self.progress(done)
        except IntegrityError:
            if not job.all_or_nothing:
                raise
            raise Conflict(_("A customer with a mobile or VIN of the file was saved while it was imported; "
                              "nothing was imported. Start the import again.")) from None
        return plan

    def _read_and_write(self) -> Plan:
        """Each chunk's new customers go to the writers while the next chunk is read; customers to update
        (and vehicles for customers created from earlier rows) once every new customer is written."""
        planner = Planner(self.job, self.user)
        self.plan = planner.plan
        with transaction.atomic(), connection.cursor() as cursor:
            self._prepare(cursor, set())
        writers = Writers(self, WRITERS)
        plan = planner.plan
        try:
            for new in planner.chunks(BATCH):
                missing = plan.tag_names - self.tag_ids.keys()
                if missing:
                    with transaction.atomic(), connection.cursor() as cursor:
                        self._ensure_tags(cursor, missing)
                for group in new:
                    group.handed_over = True
                for start in range(0, len(new), BATCH):
                    writers.put(new[start:start + BATCH], self._write_creates)
                writers.collect(block=False)
            ImportJob.objects.filter(pk=self.job.pk).update(total_rows=plan.total)
            writers.wait()
            plan = planner.finish()
            changes = list(plan.updates.values()) + plan.additions
            for start in range(0, len(changes), BATCH):
                writers.put(changes[start:start + BATCH], self._write_updates)
            writers.wait()
        finally:
            writers.close()
        return plan

    def _in_transaction(self, own: bool, work: Callable[[], None]) -> None:
        if own:
            with transaction.atomic():
                work()
        else:
            work()

    def _prepare(self, cursor, tag_names: set[str]) -> None:
        """The tags the rows name, and the pghistory context the events point to (once, before any batch:
        side-by-side writers would otherwise wait for each other on it)."""
        cursor.execute("INSERT INTO pghistory_context (id, metadata, created_at, updated_at) "
                       "VALUES (%s, %s, now(), now()) ON CONFLICT (id) DO NOTHING",
                       [self.context_id, self.context_metadata])
        self._ensure_tags(cursor, tag_names)

    def _batch(self, cursor, batch: list, write: Callable, own_transaction: bool) -> None:
        """Write a batch; in its own transaction unless all-or-nothing. When someone saved a customer with
        one of the batch's mobiles or VINs meanwhile, the batch is written item by item, refusing those."""
        if not own_transaction:
            with transaction.atomic():  # a savepoint: the error reaches the caller, which rolls back all
                write(cursor, batch)
            return
        try:
            with transaction.atomic():
                write(cursor, batch)
        except IntegrityError:
            for item in batch:
                try:
                    with transaction.atomic():
                        write(cursor, [item])
                except IntegrityError:
                    for row in item.rows:
                        self.conflicts.append((row, row.outcome))
                        row.add(_("A customer with this mobile or VIN was saved while the file was imported."))
                        row.outcome = "reject"

    def _history(self, cursor) -> None:
        """Settings for the rest of this transaction: pghistory's context, and its row-by-row triggers on
        customers and vehicles standing aside (crm.bulk.bulk_history); the import writes the same event
        rows set-based after each statement (crm.bulk.history_events), under one pghistory context that names the
        importer, so the change history shows who imported what."""
        # a batch's statements go row by row through primary keys: a hash join would read a whole table for
        # every batch, and compiling them (JIT) costs more than it saves
        bulk_history(cursor, context=(self.context_id, self.context_metadata), settings=PLANNER_SETTINGS)

    def _events(self, cursor, model, label: str, where: str, params: list) -> None:
        history_events(cursor, model, label, self.context_id, where, params)

    def _ensure_tags(self, cursor, names: set[str]) -> None:
        if not names:
            return
        wanted = sorted(names)
        cursor.execute("INSERT INTO customers_tag (tenant_id, created_at, updated_at, name) "
                       "SELECT %s, %s, %s, unnest(%s::text[]) ON CONFLICT DO NOTHING",
                       [self.tenant_id, self.now, self.now, wanted])
        cursor.execute("SELECT name, id FROM customers_tag WHERE tenant_id = %s AND name = ANY(%s)",
                       [self.tenant_id, wanted])
        self.tag_ids.update(cursor.fetchall())

    # -- new customers: COPY with ids taken from the sequence first
    CUSTOMER_COLUMNS = ["id", "tenant_id", "created_at", "updated_at", "kind", "name", "mobile", "other_phone",
                        "email", "wechat_id", "gender", "birthday", "address", "id_number", "source", "tier",
                        "stage", "owner_id", "department_id", "credit_grade", "marketing_consent", "consent_at",
                        "consent_channel", "is_active"]
    VEHICLE_COLUMNS = ["tenant_id", "created_at", "updated_at", "customer_id", "vin", "plate", "model_name",
                       "purchased_on"]
    TAG_COLUMNS = ["tenant_id", "created_at", "updated_at", "customer_id", "tag_id"]
    NOTE_COLUMNS = ["tenant_id", "created_at", "updated_at", "customer_id", "author_id", "body"]

    def _write_creates(self, cursor, groups: list[NewCustomer]) -> None:  # noqa: C901 - runs 100,000 times
        ids = take_ids(cursor, Customer, len(groups))
        tenant, stamp, null = str(self.tenant_id), self.stamp, NULL
        job = self.job
        if job.department_id:
            default_owner, default_team = null, str(job.department_id)
        else:
            default_owner, default_team = str(job.created_by_id), null
        self._history(cursor)
        tag_ids = self.tag_ids
        esc = copy_text
        customers, vehicles, links, notes = [], [], [], []
        author = str(job.created_by_id) if job.created_by_id else null
        for pk, group in zip(ids, groups, strict=True):
            group.pk = pk
            v = group.values
            cid = str(pk)
            name = v["name"]
            mobile = v.get("mobile", "")
            kind = v.get("kind") or ("company" if any(w in name.lower() for w in COMPANY_WORDS) else "person")
            owner = v.get("owner")
            birthday = v.get("birthday")
            consent = v.get("marketing_consent", False)
            cars = group.vehicles
            customers.append("\t".join((
                cid, tenant, stamp, stamp, kind, esc(name), mobile, esc(v.get("other_phone", "")),
                esc(v.get("email", "")), esc(v.get("wechat_id", "")), v.get("gender", ""),
                birthday.isoformat() if birthday else null, esc(v.get("address", "")), esc(v.get("id_number", "")),
                v.get("source") or "import", v.get("tier") or "c",
                v.get("stage") or ("customer" if cars else "prospect"),
                str(owner) if owner else default_owner, null if owner else default_team, "",
                "t" if consent else "f", stamp if consent else null, v.get("consent_channel", ""),
                "t",
            )) + "\n")
            for car in group.vehicles:
                bought = car.get("purchased_on")
                vehicles.append("\t".join((
                    tenant, stamp, stamp, cid, car["vin"], esc(car.get("plate", "")), esc(car["model_name"]),
                    bought.isoformat() if bought else null)) + "\n")
            for tag in group.tags:
                links.append(f"{tenant}\t{stamp}\t{stamp}\t{cid}\t{tag_ids[tag]}\n")
            for note in group.notes:
                notes.append(f"{tenant}\t{stamp}\t{stamp}\t{cid}\t{author}\t{esc(note)}\n")
        copy_rows(cursor, "customers_vehicle", self.VEHICLE_COLUMNS, vehicles)  # first: the score looks at them
        # through a temporary table, to write each customer's completeness score with the row
        # with the columns' defaults: those the import does not write (dms_number) take them
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {NEW_CUSTOMERS} (LIKE customers_customer "
                       "INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
        cursor.execute(f"TRUNCATE {NEW_CUSTOMERS}")
        copy_rows(cursor, NEW_CUSTOMERS, self.CUSTOMER_COLUMNS, customers)
        listed = ", ".join(self.CUSTOMER_COLUMNS)
        cursor.execute(f"INSERT INTO customers_customer ({listed}, completeness) "
                       f"SELECT {listed}, {self.score_sql} FROM {NEW_CUSTOMERS} c")
        copy_rows(cursor, "customers_customertag", self.TAG_COLUMNS, links)
        copy_rows(cursor, "customers_customernote", self.NOTE_COLUMNS, notes)

        self._events(cursor, Customer, "insert", "WHERE tenant_id = %s AND id = ANY(%s)", [self.tenant_id, ids])
        if vehicles:
            self._events(cursor, Vehicle, "insert", "WHERE tenant_id = %s AND customer_id = ANY(%s)",
                         [self.tenant_id, ids])
        if self.announce:  # in the batch's transaction, on this thread's connection (the one that wrote it)
            emit_many("customer.created", Customer.objects.filter(tenant_id=self.tenant_id, pk__in=ids).order_by("pk"))

    # -- existing customers: one UPDATE … FROM unnest(…) per batch
    UPDATE_FIELDS = [("name", "text"), ("kind", "text"), ("mobile", "text"), ("other_phone", "text"),
                     ("email", "text"), ("wechat_id", "text"), ("gender", "text"), ("birthday", "date"),
                     ("address", "text"), ("id_number", "text"), ("source", "text"), ("tier", "text"),
                     ("stage", "text"), ("owner", "bigint"), ("marketing_consent", "boolean"),
                     ("consent_channel", "text")]

    def _write_updates(self, cursor, changes: list[CustomerChange]) -> None:

        self._history(cursor)
        tenant = self.tenant_id
        # vehicles first: a customer's completeness counts them
        new = [(c.pk, car) for c in changes for car in c.new_vehicles]
        if new:
            cursor.execute("""
                INSERT INTO customers_vehicle (tenant_id, created_at, updated_at, customer_id, vin, plate,
                                               model_name, purchased_on)
                SELECT %s, %s, %s, t.* FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::date[])
                    AS t(customer_id, vin, plate, model_name, purchased_on)
                RETURNING id""",
                           [tenant, self.now, self.now, [pk for pk, _car in new], [car["vin"] for _pk, car in new],
                            [car.get("plate", "") for _pk, car in new], [car["model_name"] for _pk, car in new],
                            [car.get("purchased_on") for _pk, car in new]])
            added = [pk for (pk,) in cursor.fetchall()]
            self._events(cursor, Vehicle, "insert", "WHERE tenant_id = %s AND id = ANY(%s)", [tenant, added])
        changed = [(pk, car) for c in changes for pk, car in c.vehicle_changes.items()]
        if changed:
            cursor.execute("""
                UPDATE customers_vehicle v SET plate = COALESCE(NULLIF(t.plate, ''), v.plate),
                    model_name = COALESCE(t.model_name, v.model_name),
                    purchased_on = COALESCE(t.purchased_on, v.purchased_on), updated_at = %s
                FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::date[]) AS t(id, plate, model_name, purchased_on)
                WHERE v.id = t.id AND v.tenant_id = %s AND (v.plate, v.model_name, v.purchased_on)
                    IS DISTINCT FROM (COALESCE(NULLIF(t.plate, ''), v.plate), COALESCE(t.model_name, v.model_name),
                                      COALESCE(t.purchased_on, v.purchased_on))
                RETURNING v.id""",
                           [self.now, [pk for pk, _car in changed], [car.get("plate") for _pk, car in changed],
                            [car.get("model_name") for _pk, car in changed],
                            [car.get("purchased_on") for _pk, car in changed], tenant])
            rewritten = [pk for (pk,) in cursor.fetchall()]
            if rewritten:
                self._events(cursor, Vehicle, "update", "WHERE tenant_id = %s AND id = ANY(%s)", [tenant, rewritten])
        self._update_customers(cursor, changes)
        notes = [(c.pk, note) for c in changes for note in c.notes]
        if notes:  # a note the customer has already (the same file imported again) is not added twice
            cursor.execute("""
                INSERT INTO customers_customernote (tenant_id, created_at, updated_at, customer_id, author_id, body)
                SELECT %s, %s, %s, t.customer_id, %s, t.body FROM unnest(%s::bigint[], %s::text[])
                    AS t(customer_id, body)
                WHERE NOT EXISTS (SELECT 1 FROM customers_customernote n WHERE n.tenant_id = %s
                                  AND n.customer_id = t.customer_id AND n.body = t.body)""",
                           [tenant, self.now, self.now, self.job.created_by_id, [pk for pk, _n in notes],
                            [n for _pk, n in notes], tenant])
        links = [(c.pk, self.tag_ids[t]) for c in changes for t in c.tags]
        if links:
            cursor.execute("""
                INSERT INTO customers_customertag (tenant_id, created_at, updated_at, customer_id, tag_id)
                SELECT %s, %s, %s, t.* FROM unnest(%s::bigint[], %s::bigint[]) AS t(customer_id, tag_id)
                ON CONFLICT DO NOTHING""",
                           [tenant, self.now, self.now, [pk for pk, _t in links], [t for _pk, t in links]])

    def _update_customers(self, cursor, changes: list[CustomerChange]) -> None:
        """One UPDATE for the batch: each column the file fills replaces the customer's value, consent keeps
        when and how it was given or withdrawn, and the completeness score is computed on the new values.
        Only rows that change are rewritten (and audited): importing the same file twice writes nothing."""
        changes = [c for c in changes if c.values or c.new_vehicles]  # (notes and tags are written apart)
        if not changes:
            return
        fields = self.UPDATE_FIELDS
        column = {name: f"{name}_id" if name == "owner" else name for name, _type in fields}
        arrays = [[c.values.get(name) for c in changes] for name, _type in fields]
        unnest = ", ".join(f"%s::{t}[]" for _name, t in fields)
        active = "(o.marketing_consent AND o.consent_withdrawn_at IS NULL)"
        merged = ", ".join(f"COALESCE(t.{column[name]}, o.{column[name]}) AS {column[name]}" for name, _type in fields)
        score = self.score_sql
        assigned = [column[name] for name, _type in fields] + ["consent_at", "consent_withdrawn_at", "completeness"]
        cursor.execute(f"""
            UPDATE customers_customer o SET {", ".join(f"{c} = n.{c}" for c in assigned)}, updated_at = %s
            FROM (
                SELECT c.*, {score} AS completeness FROM (
                    SELECT o.id, o.tenant_id, {merged},
                        CASE WHEN t.marketing_consent AND NOT {active} THEN %s::timestamptz ELSE o.consent_at END
                            AS consent_at,
                        CASE WHEN t.marketing_consent AND NOT {active} THEN NULL
                             WHEN t.marketing_consent = false AND {active} THEN %s::timestamptz
                             ELSE o.consent_withdrawn_at END AS consent_withdrawn_at
                    FROM unnest(%s::bigint[], {unnest}) AS t(id, {", ".join(column.values())})
                    JOIN customers_customer o ON o.id = t.id AND o.tenant_id = %s AND o.is_active
                ) c
            ) n
            WHERE o.id = n.id AND ({", ".join(f"o.{c}" for c in assigned)})
                IS DISTINCT FROM ({", ".join(f"n.{c}" for c in assigned)})
            RETURNING o.id""", [self.now, self.now, self.now, [c.pk for c in changes], *arrays, self.tenant_id])
        rewritten = [pk for (pk,) in cursor.fetchall()]
        if rewritten:
            self._events(cursor, Customer, "update", "WHERE tenant_id = %s AND id = ANY(%s)",
                         [self.tenant_id, rewritten])


class Writers:
    """Threads writing batches side by side, one database connection each (both cores work: Python reads
    the file while PostgreSQL writes). put() queues a batch, wait() returns once every queued batch is
    written, reporting progress as batches finish; the first error stops the rest and is raised."""

    def __init__(self, importer: Importer, size: int):
        self.importer = importer
        self.todo: queue.SimpleQueue = queue.SimpleQueue()
        self.results: queue.SimpleQueue = queue.SimpleQueue()
        self.pending = 0
        self.written = 0
        self.failure: BaseException | None = None
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._work, name=f"import-{importer.job.pk}-writer-{n}", daemon=True)
                        for n in range(size)]
        for thread in self.threads:
            thread.start()

    def _work(self) -> None:
        importer = self.importer
        try:
            with scope(tenant=importer.job.tenant), connection.cursor() as cursor:
                while (item := self.todo.get()) is not None:
                    if self.stop.is_set():
                        self.results.put(0)
                        continue
                    batch, write = item
                    try:
                        importer._batch(cursor, batch, write, True)
                        self.results.put(sum(len(entry.rows) for entry in batch))
                    except BaseException as error:  # handed to the thread that waits for the writers
                        self.stop.set()
                        self.results.put(error)
        finally:
            connection.close()

    def put(self, batch: list, write: Callable) -> None:
        if self.failure is not None:
            raise self.failure
        self.pending += 1
        self.todo.put((batch, write))

    def collect(self, *, block: bool) -> None:
        while self.pending:
            try:
                result = self.results.get(block=block)
            except queue.Empty:
                return
            self.pending -= 1
            if isinstance(result, BaseException):
                self.failure = self.failure or result
            else:
                self.written += result
                self.importer.progress(self.written + self.importer.progress_base())

    def wait(self) -> None:
        self.collect(block=True)
        if self.failure is not None:
            raise self.failure

    def close(self) -> None:
        self.stop.set()
        for _thread in self.threads:
            self.todo.put(None)
        for thread in self.threads:
            thread.join()
