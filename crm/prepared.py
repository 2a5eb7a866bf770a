"""Queries a page runs on every request with other ids only, written with the ORM and paid for once.

Building and compiling a queryset costs a Django page more than PostgreSQL spends running it (about a
millisecond each for the customer page's queries, against a tenth of that to run them). `Prepared` builds
the queryset once per process with probe values standing for its parameters, turns the compiled SQL into
a server-side prepared statement (PREPARE, once per database session), and then only EXECUTEs it:

    CARD = Prepared("customer_card", lambda customer, tenant: Customer.objects.filter(pk=customer)
                    .values_list("name", "mobile"), tenant="tenant")
    rows = CARD.rows(customer=pk, tenant=tenant_id)

The builder takes ids (int) or strings (str) by keyword. `rows()` runs a values_list() queryset (rows are
tuples in its order); `instances()` runs a model queryset and returns its model instances, the
select_related() ones included, as the queryset itself would. It is built inside
`scope(tenant=<the probe>)`, so a tenant-scoped manager's own filter becomes a parameter too; `tenant=`
names the builder's argument that holds the tenant's id, and a builder whose SQL does not filter by it is
refused.

Behind a pooler in transaction mode (settings.DB_POOLED) a server-side statement would be PREPAREd on one
server connection and EXECUTEd on another: there the compiled SQL is kept in the process and sent with its
parameters each time, which saves the queryset's building and compiling, not PostgreSQL's planning."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from django_scopes import scope

_PROBE_INT = -7_340_000_100
_PROBE_STR = "crm-probe-7340-{}"


class Prepared:
    def __init__(self, name: str, build: Callable[..., QuerySet], *, tenant: str = "tenant",
                 types: dict[str, type] | None = None):
        self.name = name
        self.build = build
        self.tenant = tenant
        self.params = list(inspect.signature(build).parameters)
        self.types = {p: (types or {}).get(p, int) for p in self.params}
        if tenant not in self.params:
            raise ValueError(f"{name}: the builder must take the tenant's id as `{tenant}`")
        self._statement: tuple[str, str, str] | None = None
        self._models = None  # instances(): how the compiled query's columns become model instances

    def _probe(self, index: int, param: str):
        return _PROBE_INT - index if self.types[param] is int else _PROBE_STR.format(index)

    def statement(self) -> tuple[str, str, str]:
        """(statement name, PREPARE statement, the same query with pyformat parameters)."""
        if self._statement is None:
            probes = {p: self._probe(i, p) for i, p in enumerate(self.params)}
            with scope(tenant=probes[self.tenant]):
                queryset = self.build(**probes)
                compiler = queryset.query.get_compiler(using=DEFAULT_DB_ALIAS)
                sql, params = compiler.as_sql()
            if compiler.klass_info is not None:  # a model queryset: how ModelIterable reads its rows
                select, info = compiler.select, compiler.klass_info
                start, end = info["select_fields"][0], info["select_fields"][-1] + 1
                self._models = (compiler, info["model"], [f[0].target.attname for f in select[start:end]],
                                start, end, get_related_populators(info, select, DEFAULT_DB_ALIAS),
                                dict(compiler.annotation_col_map or {}))
            with connection.cursor() as cursor:
                body = cursor.mogrify(sql, params).decode()
            kinds = []
            plain = body.replace("%", "%%")  # the literal % of the SQL, escaped for the driver's parameters
            for position, param in enumerate(self.params, start=1):
                probe = probes[param]
                literal = str(probe) if self.types[param] is int else f"'{probe}'"
                if literal not in body:
                    raise RuntimeError(f"{self.name}: the query does not use its parameter `{param}`")
                body = body.replace(literal, f"${position}")
                plain = plain.replace(literal, f"%({param})s")
                kinds.append("bigint" if self.types[param] is int else "text")
            digest = hashlib.sha1(body.encode(), usedforsecurity=False).hexdigest()[:16]
            name = f"crm_{self.name}_{digest}"
            self._statement = (name, f"PREPARE {name}({', '.join(kinds)}) AS {body}", plain)
        return self._statement

    def rows(self, **values) -> list[tuple]:
        name, statement, plain = self.statement()
        with connection.cursor() as cursor:
            if settings.DB_POOLED:
                cursor.execute(plain, {p: values[p] for p in self.params})
            else:
                args = [values[p] for p in self.params]
                prepare_once(cursor, name, statement)
                cursor.execute(f"EXECUTE {name}({', '.join(['%s'] * len(args))})", args)
            return cursor.fetchall()

    def instances(self, **values) -> list[Model]:
        """The model instances of a model queryset's builder (select_related() filled in, annotations set,
        the fields' own conversions applied), without building or compiling the queryset again."""
        rows = self.rows(**values)
        if self._models is None:
            raise TypeError(f"{self.name}: instances() needs a builder that returns model instances")
        compiler, model, attnames, start, end, populators, annotations = self._models
        result = []
        for row in compiler.results_iter([rows]):
            obj = model.from_db(DEFAULT_DB_ALIAS, attnames, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for attr, position in annotations.items():
                setattr(obj, attr, row[position])
            result.append(obj)
        return result


def prepare_once(cursor, name: str, statement: str) -> None:
    """Run the PREPARE `statement` once per database session (a reconnect starts a new one). Only on a direct
    connection: behind a pooler the next transaction may run on a server connection that never saw it."""
    raw = connection.connection
    state = getattr(connection, "_crm_prepared", None)
    if state is None or state[0] is not raw:
        state = connection._crm_prepared = (raw, set())
    if name not in state[1]:
        cursor.execute(statement)
        state[1].add(name)
