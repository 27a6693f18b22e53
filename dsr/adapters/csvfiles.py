"""The csv adapter: a folder of CSV exports (one file per mapped table), read-only."""

import csv
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from dsr.adapters import (
    AdapterConfigError,
    Customer,
    Finding,
    Health,
    SourceError,
    SourceReplyInvalid,
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
    listed_customer,
    load_mapping,
    mapped_findings,
)


class CsvAdapter:
    """Read `<folder>/<table>.csv` files through a table mapping.

    Settings: `folder`, `mapping` or `mapping_file`, and `encoding` (default utf-8). Each file
    is read once and indexed by its searched columns; a changed file is read again. The
    mapping is checked against the header of each file there when the adapter is built.
    """

    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        self.name = name
        if not settings.get("folder"):
            raise AdapterConfigError("setting 'folder' is required (where the CSV files are).")
        self.folder = Path(settings["folder"])
        self.encoding = str(settings.get("encoding", "utf-8"))
        self.mapping = load_mapping(settings)
        self.searches = self.mapping.searches()
        self._cache: dict[str, tuple[float, dict[str, dict[str, list[dict[str, str]]]]]] = {}
        check_schema(self.mapping, self._header, "folder")

    def _header(self, table: str) -> list[str]:
        """The columns of `<table>.csv`; those of a file not there (yet) are not checked."""
        mapped = [c for s in self.mapping.tables() if s.table == table
                  for c in self.mapping.columns(s)]
        try:
            with (self.folder / f"{table}.csv").open(newline="", encoding=self.encoding) as file:
                header = next(csv.reader(file), None)
        except (OSError, UnicodeDecodeError, csv.Error):
            return mapped  # reported when it is read, by check() and lookup()
        return header or mapped

    def _path(self, spec: TableSpec) -> Path:
        return self.folder / f"{spec.table}.csv"

    def _index(self, spec: TableSpec) -> dict[str, dict[str, list[dict[str, str]]]]:
        """Return the file's rows indexed by each searched column, reading it if it changed."""
        path = self._path(spec)
        try:
            modified = path.stat().st_mtime
        except OSError:
            raise SourceUnavailable(f"{self.name}: {path.name} is missing.") from None
        cached = self._cache.get(spec.table)
        if cached and cached[0] == modified:
            return cached[1]
        try:
            with path.open(newline="", encoding=self.encoding) as handle:
                reader = csv.DictReader(handle)
                rows = list(reader)
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            raise SourceReplyInvalid(f"{self.name}: {path.name} cannot be read "
                                     f"({type(error).__name__}).") from None
        missing = set(self.mapping.columns(spec)) - set(reader.fieldnames or ())
        if rows and missing:
            raise SourceReplyInvalid(f"{self.name}: {path.name} lacks the columns "
                                     f"{', '.join(sorted(missing))}.")
        index: dict[str, dict[str, list[dict[str, str]]]] = {}
        for column in spec.indexed_columns():
            by_value: dict[str, list[dict[str, str]]] = {}
            for row in rows:
                by_value.setdefault(row[column].strip().lower(), []).append(row)
            index[column] = by_value
        self._cache[spec.table] = (modified, index)
        return index

    def rows(
        self, spec: TableSpec, columns: list[str], conditions: Conditions
    ) -> list[Mapping[str, Any]]:
        """Return the rows where any condition's column holds one of its values, once each."""
        index, seen = self._index(spec), set()
        found: list[Mapping[str, Any]] = []
        for column, values in conditions:
            for value in values:
                for row in index[column].get(value.strip().lower(), []):
                    if any(row[c] != str(v) for c, v in spec.where.items()):
                        continue
                    if id(row) not in seen:
                        seen.add(id(row))
                        found.append(row)
        return found

    def lookup(self, subject: SubjectIdentity) -> list[Finding]:
        """Return the subject's mapped rows as findings."""
        return mapped_findings(self.name, self.mapping, self, subject)

    def customers(self) -> Iterator[Customer]:
        """Every row of the subject table's file with an address, read as a stream."""
        spec = self.mapping.subject
        try:
            customer_columns(spec)
        except AdapterConfigError as error:
            raise SourceError(f"{self.name}: {error}") from None
        path = self._path(spec)
        try:
            with path.open(newline="", encoding=self.encoding) as handle:
                for row in csv.DictReader(handle):
                    if (customer := listed_customer(spec, row)) is not None:
                        yield customer
        except FileNotFoundError:
            raise SourceUnavailable(f"{self.name}: {path.name} is missing.") from None
        except (OSError, UnicodeDecodeError, csv.Error, KeyError) as error:
            raise SourceReplyInvalid(f"{self.name}: {path.name} cannot be read "
                                     f"({type(error).__name__}).") from None

    def aged(self, before: date) -> dict[str, int]:
        """The rows of each file with a `dated` column dated before `before`, by label,
        read as a stream."""

        def count(spec: TableSpec) -> int:
            path = self._path(spec)
            try:
                with path.open(newline="", encoding=self.encoding) as handle:
                    return count_aged(spec, csv.DictReader(handle), before)
            except FileNotFoundError:
                raise SourceUnavailable(f"{self.name}: {path.name} is missing.") from None
            except (OSError, UnicodeDecodeError, csv.Error, KeyError) as error:
                raise SourceReplyInvalid(f"{self.name}: {path.name} cannot be read "
                                         f"({type(error).__name__}).") from None

        return aged_by_table(self.mapping, count)

    def check(self) -> Health:
        """Read every mapped file once."""
        try:
            for spec in self.mapping.tables():
                self._index(spec)
        except (SourceUnavailable, SourceReplyInvalid) as error:
            return Health(False, str(error))
        return Health(True, f"{len(self.mapping.tables())} CSV files readable.")
