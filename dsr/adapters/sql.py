"""The sql adapter: any database SQLAlchemy reaches, read through a table mapping."""

import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from dsr.adapters import (
    AdapterConfigError,
    Customer,
    Finding,
    Health,
    RecordRef,
    SourceError,
    SourceNotWritable,
    SourceUnavailable,
    SubjectIdentity,
)
from dsr.adapters.mapping import (
    Conditions,
    TableSpec,
    aged_by_table,
    check_schema,
    count_aged,
    customer_columns,
    dated_columns,
    listed_customer,
    load_mapping,
    mapped_findings,
)
from dsr.categories import Category

# Values bound in one query at most: SQLite and PostgreSQL both cap a statement's parameters.
BATCH = 1000


def _batches(conditions: list[tuple[str, list[Any]]]) -> Iterator[list[tuple[str, list[Any]]]]:
    """Split the conditions into groups of at most BATCH values each."""
    pairs = [(column, value) for column, values in conditions for value in values]
    for start in range(0, len(pairs), BATCH):
        batch: dict[str, list[Any]] = {}
        for column, value in pairs[start:start + BATCH]:
            batch.setdefault(column, []).append(value)
        yield list(batch.items())


class SqlAdapter:
    """Read (and correct, on writable columns) a database through its mapping.

    Settings: `url` (an SQLAlchemy URL; put passwords in an environment variable with
    {"env": "NAME"}), `mapping` or `mapping_file`, and `timeout` in seconds (default 10).
    The mapping is checked against the database when the adapter is built, or, if the
    database does not answer then, when it first does.
    """

    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        self.name = name
        if not settings.get("url"):
            raise AdapterConfigError("setting 'url' is required (an SQLAlchemy database URL).")
        try:
            url = sa.make_url(settings["url"])
        except sa.exc.ArgumentError:
            raise AdapterConfigError("setting 'url' is not a database URL.") from None
        self.mapping = load_mapping(settings)
        self.searches = self.mapping.searches()
        timeout = float(settings.get("timeout", 10))
        connect_args: dict[str, Any] = (
            {"timeout": timeout} if url.get_backend_name() == "sqlite"
            else {"connect_timeout": int(timeout)}
        )
        self._engine = sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)
        self._types: dict[str, dict[str, sa.types.TypeEngine[Any]]] = {}
        self._schema_checked = False
        if url.get_backend_name() != "sqlite" or not url.database \
                or Path(url.database).exists():  # never create an SQLite file here
            try:
                self._check_schema()
            except SQLAlchemyError:
                pass  # not answering now: check() and lookup() compare once it does
            finally:
                self._engine.dispose()  # no connection outlives start-up (or a fork)

    def _check_schema(self) -> None:
        """Compare the mapping with the database's tables and columns, once it answers;
        AdapterConfigError names the first setting that names what is not there."""
        if self._schema_checked:
            return
        tables = set(sa.inspect(self._engine).get_table_names())
        check_schema(self.mapping, lambda table: set(self._column_types(table))
                     if table in tables else None, "database")
        self._schema_checked = True

    def _column_types(self, table: str) -> dict[str, sa.types.TypeEngine[Any]]:
        """The table's column types, read from the database once."""
        if table not in self._types:
            columns = sa.inspect(self._engine).get_columns(table)
            self._types[table] = {c["name"]: c["type"] for c in columns}
        return self._types[table]

    def _table(self, spec: TableSpec, columns: Iterable[str]) -> sa.TableClause:
        types = self._column_types(spec.table)
        return sa.table(spec.table, *(sa.column(c, types.get(c)) for c in columns))

    @staticmethod
    def _typed(column: sa.ColumnClause[Any], values: Iterable[str]) -> list[Any]:
        """Convert search values to the column's type: PostgreSQL compares no integer with
        text, and a value that cannot be of that type cannot match."""
        try:
            python_type = column.type.python_type
        except NotImplementedError:
            python_type = str
        if python_type is int:
            return sorted(int(v) for v in values if v.strip().lstrip("-").isdigit())
        return sorted(values)

    def rows(
        self, spec: TableSpec, columns: list[str], conditions: Conditions
    ) -> list[Mapping[str, Any]]:
        """Read the mapped columns of rows where any condition holds (bound parameters only)."""
        table = self._table(spec, columns)
        searched = [
            (column, sorted({v.lower() for v in values}) if column in spec.casefold else typed)
            for column, values in conditions
            if (typed := self._typed(table.c[column], values))
        ]
        only = [table.c[column] == value for column, value in spec.where.items()]
        read: list[list[Mapping[str, Any]]] = []
        with self._engine.connect() as connection:
            for batch in _batches(searched):
                where = [
                    sa.func.lower(table.c[column]).in_(values) if column in spec.casefold
                    else table.c[column].in_(values)
                    for column, values in batch
                ]
                result = connection.execute(sa.select(table).where(sa.or_(*where), *only))
                names = list(result.keys())
                read.append([dict(zip(names, row, strict=True)) for row in result])
        if len(read) == 1:
            return read[0]
        found: dict[str, Mapping[str, Any]] = {}  # a row two batches both hold, once
        for row in (row for rows in read for row in rows):
            found.setdefault(repr(tuple(row.values())), row)
        return list(found.values())

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """Tell what went wrong in a read as the SourceError staff can act on."""
        try:
            yield
        except AdapterConfigError as error:
            raise SourceError(f"{self.name}: {error}") from None
        except sa.exc.NoSuchTableError:
            raise SourceError(f"{self.name}: a mapped table is missing; check the mapping "
                              "against the database.") from None
        except OperationalError as error:
            raise SourceUnavailable(f"{self.name}: the database did not answer "
                                    f"({type(error.orig).__name__}).") from None
        except SQLAlchemyError as error:
            raise SourceError(f"{self.name}: the query failed ({type(error).__name__}); "
                              "check the mapping against the database.") from None

    def lookup(self, subject: SubjectIdentity) -> list[Finding]:
        """Return the subject's mapped rows as findings."""
        with self._reading():
            self._check_schema()
            return mapped_findings(self.name, self.mapping, self, subject)

    def customers(self) -> Iterator[Customer]:
        """Every row of the subject table with an address, streamed from the database."""
        spec = self.mapping.subject
        with self._reading():
            table = self._table(spec, customer_columns(spec))
            with self._engine.connect() as connection:
                result = connection.execution_options(stream_results=True, yield_per=1000) \
                    .execute(sa.select(table))
                for row in result.mappings():
                    if (customer := listed_customer(spec, dict(row))) is not None:
                        yield customer

    def aged(self, before: date) -> dict[str, int]:
        """The rows of each table with a `dated` column dated before `before`, by label:
        the date column alone is streamed, whatever its type (date, text or Unix time)."""

        def count(spec: TableSpec) -> int:
            table = self._table(spec, dated_columns(spec))
            with self._engine.connect() as connection:
                result = connection.execution_options(stream_results=True, yield_per=5000) \
                    .execute(sa.select(table))
                return count_aged(spec, result.mappings(), before)

        with self._reading():
            return aged_by_table(self.mapping, count)

    def correct(self, ref: RecordRef, changes: Mapping[Category, str]) -> None:
        """Write each change to its writable column of the record `ref` names."""
        spec = self.mapping.table(ref.kind)
        if spec is None:
            raise SourceNotWritable(f"{self.name}: no mapped table {ref.kind!r}.")
        columns = {}
        for category, value in changes.items():
            candidates = [ref.field] if ref.field else [
                c for c in spec.writable if spec.fields[c].category == category
            ]
            if len(candidates) != 1 or candidates[0] not in spec.writable \
                    or spec.fields[candidates[0]].category != category:
                raise SourceNotWritable(f"{self.name}: {ref.kind} has no single writable "
                                  f"{category.label.lower()} column for this change.")
            columns[candidates[0]] = value
        try:
            key = spec.keys[0]  # a table with writable columns has a key of one column
            table = self._table(spec, [key, *columns])
            keys = self._typed(table.c[key], [ref.key])
            with self._engine.begin() as connection:
                updated = connection.execute(
                    sa.update(table).where(table.c[key].in_(keys)).values(**columns)
                ).rowcount if keys else 0
                if updated != 1:  # raising here rolls the update back
                    raise SourceError(f"{self.name}: record {ref.kind} {ref.key} was "
                                      f"{'not found' if not updated else 'not unique'}.")
        except SQLAlchemyError as error:
            raise SourceError(f"{self.name}: the update failed ({type(error).__name__}).") \
                from None

    def check(self) -> Health:
        """Compare the mapping with the database, read one row of each mapped table, and warn
        about search columns without an index."""
        warnings = []
        try:
            self._check_schema()
            inspector = sa.inspect(self._engine)
            with self._engine.connect() as connection:
                for spec in self.mapping.tables():
                    table = self._table(spec, self.mapping.columns(spec))
                    connection.execute(sa.select(table).limit(1)).all()
                    warnings += self._unindexed(inspector, connection, spec)
        except AdapterConfigError as error:
            return Health(False, str(error))
        except OperationalError as error:
            return Health(False, f"cannot reach the database ({type(error.orig).__name__}).")
        except SQLAlchemyError as error:
            return Health(False, f"a mapped table or column is missing ({type(error).__name__}).")
        return Health(True, f"{len(self.mapping.tables())} mapped tables readable.",
                      tuple(warnings))

    @staticmethod
    def _unindexed(inspector: sa.Inspector, connection: sa.Connection, spec: TableSpec
                   ) -> list[str]:
        with warnings.catch_warnings():  # SQLite's reflection skips expression indexes
            warnings.simplefilter("ignore", sa.exc.SAWarning)
            indexes = inspector.get_indexes(spec.table)
            uniques = inspector.get_unique_constraints(spec.table)
            primary = inspector.get_pk_constraint(spec.table)["constrained_columns"][:1]
        leading = {index["column_names"][0] for index in indexes} | set(primary)
        leading |= {unique["column_names"][0] for unique in uniques}
        expressions = " ".join(str(e) for index in indexes for e in index.get("expressions") or [])
        if connection.dialect.name == "sqlite":
            expressions += " ".join(str(sql) for (sql,) in connection.execute(
                sa.text("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t"),
                {"t": spec.table}))
        expressions = expressions.lower().replace(" ", "").replace('"', "")
        found = []
        for column in spec.indexed_columns():
            if column in spec.casefold:
                if f"lower({column.lower()})" not in expressions:
                    found.append(f"{spec.table}.{column} is searched without regard to case "
                                 f"but has no index on lower({column}): lookups will scan "
                                 "the table.")
            elif column not in leading:
                found.append(f"{spec.table}.{column} is searched but has no index: lookups "
                             "will scan the table.")
        return found
