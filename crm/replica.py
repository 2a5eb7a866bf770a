"""Read replicas: the read load of dashboards, reports, exports and the API's lists goes to a streaming replica
(the `replica` database alias, DATABASE_REPLICA_URL), everything else to the primary.

Routing is explicit, as Saleor routes to its replica: a reader opts in with `replica_reads()` (a view with
`@reads_replica`), and every read inside it goes to `read_alias()` — the lazy querysets a template evaluates and
the related rows a selector follows included, which a `.using()` per queryset would miss. Outside such a block
nothing changes: reads and writes go to the primary, and a row read from the replica is written to the primary
(ReplicaRouter). A selector shared with a service (which reads what it is about to write) stays on the primary.

`read_alias()` is the primary when no replica is configured, and for the user (or API credential) whose own
write succeeded less than READ_YOUR_WRITES_SECONDS ago: a page right after a save shows the save, however far
the replica lags. A Celery task has no writer: inside replica_reads() it reads the replica (the report
e-mails); the customer export waits for the replica to have replayed its job (`replica_reads(since=…)`) and
reads the primary when it lags further.

A write through the replica alias raises ReplicaWriteRefused before it reaches the server — also when
DATABASE_REPLICA_URL points at a primary by mistake (a real hot standby refuses writes itself too)."""

from __future__ import annotations

import functools
import re
import time
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.backends.signals import connection_created
from django.dispatch import receiver

from crm.tenancy import render_inside

REPLICA = "replica"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

# where the reads inside replica_reads() go (None outside: the primary)
_reads: ContextVar[str | None] = ContextVar("crm_replica_reads", default=None)
# whose request this is ("user:12", "credential:3"): read-your-writes is kept per writer
_writer: ContextVar[str | None] = ContextVar("crm_replica_writer", default=None)


class ReplicaWriteRefused(DatabaseError):
    """A statement other than a read was sent through the replica alias."""


def configured() -> bool:
    return REPLICA in settings.DATABASES


def _mark_key(writer: str) -> str:
    return f"replica:wrote:{writer}"


@contextmanager
def acting_as(writer: str | None):
    """The requests of `writer` ("user:12") read their own writes (ReadYourWritesMiddleware, the API's views)."""
    token = _writer.set(writer)
    try:
        yield
    finally:
        _writer.reset(token)


def wrote(writer: str | None = None) -> None:
    """Remember that `writer` (the current one by default) has just written: their reads go to the primary for
    READ_YOUR_WRITES_SECONDS. Kept in the shared cache, so it holds on every web process and every device."""
    writer = writer or _writer.get()
    seconds = settings.READ_YOUR_WRITES_SECONDS
    if writer and configured() and seconds > 0:
        cache.set(_mark_key(writer), 1, timeout=seconds)


def wrote_recently(writer: str) -> bool:
    return cache.get(_mark_key(writer)) is not None


def read_alias() -> str:
    """The alias a read of the read load goes to now: the replica, unless there is none or the current writer
    wrote within READ_YOUR_WRITES_SECONDS."""
    if not configured():
        return DEFAULT_DB_ALIAS
    writer = _writer.get()
    if writer and settings.READ_YOUR_WRITES_SECONDS > 0 and wrote_recently(writer):
        return DEFAULT_DB_ALIAS
    return REPLICA


def replayed(moment: datetime) -> bool:
    """Has the replica replayed every transaction committed up to `moment`? (The last replayed commit's time is
    at or after it; on an idle primary that commit is the one of `moment`'s own row.)"""
    with connections[REPLICA].cursor() as cursor:
        cursor.execute("SELECT pg_last_xact_replay_timestamp() >= %s", [moment])
        return bool(cursor.fetchone()[0])


@contextmanager
def replica_reads(*, since: datetime | None = None, wait: float = 0):
    """Every read inside goes to read_alias(). With `since` (a job's creation), only to a replica that has
    replayed up to then, waited for up to `wait` seconds; else to the primary, as a lagging replica would leave
    out the rows the job was asked for."""
    alias = read_alias()
    if alias == REPLICA and since is not None:
        deadline = time.monotonic() + wait
        while not replayed(since):
            if time.monotonic() >= deadline:
                alias = DEFAULT_DB_ALIAS
                break
            time.sleep(0.1)
    token = _reads.set(alias)
    try:
        yield alias
    finally:
        _reads.reset(token)


def reading_connection():
    """The connection a raw SQL read of the read load runs on: the alias of the replica_reads() around it, else
    the primary's (`django.db.connection` is always the primary's)."""
    return connections[_reads.get() or DEFAULT_DB_ALIAS]


def reads_replica(view):
    """A view of the read load (a dashboard, a report): its GET's reads go to read_alias(), its TemplateResponse
    rendered inside, as the tenant's scope renders it (crm.tenancy.render_inside)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method not in SAFE_METHODS:  # a form's POST validates against what it is about to write
            return view(request, *args, **kwargs)
        with replica_reads():
            return render_inside(view(request, *args, **kwargs))

    return wrapped


class ReplicaRouter:
    """Reads inside replica_reads() go to its alias; writes always go to the primary (a row read from the replica
    is saved to the primary, not to the alias it came from). Outside, Django's own choice stands: the alias of
    the row a related read starts from, else the primary."""

    def db_for_read(self, model, **hints):
        return _reads.get()

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # the replica holds the primary's rows: a row of either may point at a row of the other
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA, None}:
            return True
        return None

    def allow_migrate(self, db, app_label, **hints):
        return db != REPLICA  # the replica replays the primary's migrations


# What may run on the replica: reads, and the transaction control of an atomic block around them (savepoints;
# Django's check_constraints() at the end of a test's transaction sets when its constraints are checked).
_READ = re.compile(r"\s*(\(\s*)*(SELECT|SHOW|SAVEPOINT|RELEASE\s+SAVEPOINT|ROLLBACK\s+TO\s+SAVEPOINT"
                   r"|SET\s+CONSTRAINTS)\b", re.I)
_WITH = re.compile(r"\s*WITH\b", re.I)
_WRITING = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|CREATE|ALTER|DROP|NEXTVAL|SETVAL)\b", re.I)
_LOCKING = re.compile(r"\bFOR\s+(NO\s+KEY\s+)?(UPDATE|SHARE|KEY\s+SHARE)\b", re.I)


def refuse_writes(execute, sql, params, many, context):
    """An execute wrapper of the replica's connections: any statement that is not a read raises. A locking read
    (FOR UPDATE) too: a lock on the replica protects nothing on the primary."""
    text = sql if isinstance(sql, str) else str(sql)
    reading = bool(_READ.match(text)) or (bool(_WITH.match(text)) and not _WRITING.search(text))
    if not reading or _LOCKING.search(text):
        raise ReplicaWriteRefused(
            f"refused on the read replica ({context['connection'].alias!r}), which takes reads only: "
            f"{text[:200]}")
    return execute(sql, params, many, context)


@receiver(connection_created)
def guard_replica(sender, connection, **kwargs):
    if connection.alias == REPLICA and refuse_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(refuse_writes)


class ReadYourWritesMiddleware:
    """Marks a signed-in user's successful write (an unsafe method answered below 400; ATOMIC_REQUESTS has
    committed it by then), and makes the user the writer of their requests, so that read_alias() sends their
    pages to the primary for READ_YOUR_WRITES_SECONDS after it. After AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not configured():
            return self.get_response(request)
        user = request.user
        writer = f"user:{user.pk}" if user.is_authenticated else None
        with acting_as(writer):
            response = self.get_response(request)
        user = request.user  # who signed in with this request, or out
        if request.method not in SAFE_METHODS and response.status_code < 400 and user.is_authenticated:
            wrote(f"user:{user.pk}")
        return response
