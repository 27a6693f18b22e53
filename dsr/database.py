"""The declarative base shared by every model, and the column types they have in common."""

import itertools
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import JSON, DateTime, MetaData, Table, insert
from sqlalchemy.engine import Connection, CursorResult, Dialect, Result
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so that Alembic migrations can name what they alter on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Rows an executemany sends at once: enough to cost one statement's overhead per thousand.
ROW_BATCH = 1000


def tune_sqlite(dbapi_connection: Any, _record: object) -> None:
    """Write-ahead logging for dsr's own SQLite file: the web process and the job consumers
    read while one of them writes, and a commit costs one sync instead of several."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def changed_rows(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed (its result is a CursorResult)."""
    return cast(CursorResult[Any], result).rowcount


def insert_rows(connection: Connection, model: type["Base"],
                rows: Iterable[Mapping[str, Any]]) -> None:
    """Insert `rows` into `model`'s table in the connection's transaction, as they come (a
    generator is never held whole): by COPY on PostgreSQL (a third of the time of an INSERT
    of many rows), by an executemany of ROW_BATCH rows at a time elsewhere. Every row gives
    the same columns, each as it is stored (JSON columns as the value to encode), and every
    column but a generated key: COPY knows no Python-side defaults."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    rows = itertools.chain([first], rows)
    table = cast(Table, model.__table__)
    if connection.dialect.driver != "psycopg":
        while batch := list(itertools.islice(rows, ROW_BATCH)):
            connection.execute(insert(table), batch)
        return
    columns = list(first)
    encoded = [isinstance(table.c[name].type, JSON) for name in columns]
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(row[name]) if encode else row[name]
                            for name, encode in zip(columns, encoded, strict=True)])


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back as an aware UTC datetime.

    SQLite keeps no time zone; PostgreSQL does. This type makes both return the same value,
    which the audit chain's hashes depend on.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: dsr stores aware UTC timestamps only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of dsr's models."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
