"""The table mapping shared by the sql and csv adapters: which table identifies the subject,
which columns hold which category, and how related tables join to it or to one another, to
any depth."""

import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from dsr.adapters import AdapterConfigError, Customer, Finding, RecordRef, SubjectIdentity
from dsr.categories import Category

IdentityKey = Literal["email", "customer_id", "phone", "ip"]
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def _identifier(name: str) -> str:
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"{name!r} is not a plain table or column name")
    return name


def _listed(value: Any) -> Any:
    """Accept one item where a list of them is meant."""
    return [value] if isinstance(value, str | dict) else value


def _place(path: str, items: Sequence[object], index: int) -> str:
    """The setting of one item of a list its author may have written as a single item."""
    return path if len(items) == 1 else f"{path}.{index}"


class FieldSpec(BaseModel):
    """A column that holds personal information."""

    model_config = ConfigDict(extra="forbid")
    category: Category
    label: str


class JoinSpec(BaseModel):
    """Rows of a related table belong to the subject when `column` equals `to` of one of the
    subject's rows of `table` (the subject table when not named)."""

    model_config = ConfigDict(extra="forbid")
    table: str | None = None
    column: str
    to: str

    _names = field_validator("column", "to")(_identifier)

    @field_validator("table")
    @classmethod
    def _table_name(cls, value: str | None) -> str | None:
        return None if value is None else _identifier(value)


class TableSpec(BaseModel):
    """One table (or CSV file) and what its columns mean."""

    model_config = ConfigDict(extra="forbid")

    table: str
    # The columns that name a row (several where its primary key is composite).
    keys: list[str] = Field(alias="key", min_length=1)
    label: str
    # Each identity key is searched in one column or in several (email and alt_email).
    match: dict[IdentityKey, list[str]] = {}
    joins: list[JoinSpec] = Field([], alias="join")
    # Only rows whose columns hold these values count (a link table's type column, say).
    where: dict[str, str | int] = {}
    fields: dict[str, FieldSpec] = {}
    activity: Category | None = None
    summary: str | None = None
    context: list[str] = []
    timestamps: list[str] = []
    writable: list[str] = []
    # Match columns whose values are stored in mixed case (Alice@Example.com), compared
    # without regard to case; give each an index on lower(column).
    casefold: list[str] = []
    # The subject table's column with the day each customer's account was opened: a notice
    # of a policy version never goes to a customer whose account is newer than the version.
    since: str | None = None
    # The column with each row's date (an ISO date or time, or a Unix timestamp): the
    # retention report counts the rows older than the register's retention_days.
    dated: str | None = None

    _table = field_validator("table")(_identifier)
    _one_or_many = field_validator("keys", "joins", mode="before")(_listed)

    @field_validator("keys")
    @classmethod
    def _key_columns(cls, value: list[str]) -> list[str]:
        return [_identifier(column) for column in value]

    @field_validator("match", mode="before")
    @classmethod
    def _match_lists(cls, value: Any) -> Any:
        return {k: _listed(v) for k, v in value.items()} if isinstance(value, dict) else value

    @field_validator("match")
    @classmethod
    def _match_columns(cls, value: dict[IdentityKey, list[str]]) -> dict[IdentityKey, list[str]]:
        for key, columns in value.items():
            if not columns:
                raise ValueError(f"match {key!r} names no column")
            for column in columns:
                _identifier(column)
        return value

    @field_validator("where", "fields")
    @classmethod
    def _named_columns(cls, value: dict[str, Any]) -> dict[str, Any]:
        for column in value:
            _identifier(column)
        return value

    @field_validator("activity", mode="before")
    @classmethod
    def _kind_of_record(cls, value: Any) -> Any:
        kinds = sorted(kind.value for kind in Category if kind.is_activity)
        if value is not None and value not in kinds:
            raise ValueError(f"{value!r} is not a kind of record (one of {', '.join(kinds)})")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "TableSpec":
        for column in [*self.context, *(c for c in (self.summary, self.dated) if c)]:
            _identifier(column)
        if set(self.timestamps) - set(self.context):
            raise ValueError("timestamps must be context columns")
        if set(self.casefold) - set(self.match_columns()):
            raise ValueError("casefold columns must be match columns")
        unknown = set(self.writable) - set(self.fields)
        if unknown:
            raise ValueError(f"writable columns {sorted(unknown)} are not among the fields")
        if self.writable and len(self.keys) > 1:
            raise ValueError("writable columns need a key of one column")
        if (self.summary or self.context) and self.activity is None:
            raise ValueError("summary and context describe an activity: set activity too")
        return self

    def match_columns(self) -> list[str]:
        """Every column an identity key is searched in."""
        return list(dict.fromkeys(c for columns in self.match.values() for c in columns))

    def columns(self, extra: Iterable[str] = ()) -> list[str]:
        """Every column the mapping reads from this table, and `extra` ones."""
        names = [*self.keys, *self.match_columns(), *self.fields, *self.context, *self.where,
                 *(join.column for join in self.joins), *extra]
        names += [column for column in (self.summary, self.since, self.dated) if column]
        return list(dict.fromkeys(names))

    def indexed_columns(self) -> list[str]:
        """The columns lookups search by, which therefore need an index."""
        return list(dict.fromkeys([*self.match_columns(), *(j.column for j in self.joins)]))

    def named_columns(self, path: str) -> Iterator[tuple[str, str | None]]:
        """Each column of its own table the spec names, with the setting that names it (the
        table itself first, as None)."""
        yield f"{path}.table", None
        for index, key in enumerate(self.keys):
            yield _place(f"{path}.key", self.keys, index), key
        for identity, columns in self.match.items():
            for index, column in enumerate(columns):
                yield _place(f"{path}.match.{identity}", columns, index), column
        for index, join in enumerate(self.joins):
            yield f"{_place(f'{path}.join', self.joins, index)}.column", join.column
        for column in [*self.where, *self.fields]:
            yield f"{path}.{'where' if column in self.where else 'fields'}.{column}", column
        for column in self.context:
            yield f"{path}.context", column
        if self.summary:
            yield f"{path}.summary", self.summary
        if self.since:
            yield f"{path}.since", self.since


class TableMapping(BaseModel):
    """The subject table and the tables related to it, directly or through one another."""

    model_config = ConfigDict(extra="forbid")

    subject: TableSpec
    related: list[TableSpec] = []

    @model_validator(mode="after")
    def _reachable(self) -> "TableMapping":
        if not self.subject.match:
            raise ValueError("subject.match must name at least one identity column")
        if self.subject.joins:
            raise ValueError("subject.join: the subject table joins to no other table")
        for spec in self.related:
            if not spec.joins and not spec.match:
                raise ValueError(f"related table {spec.table!r} needs a join or a match")
        return self

    def tables(self) -> list[TableSpec]:
        """The subject table first, then the related ones."""
        return [self.subject, *self.related]

    def table(self, name: str) -> TableSpec | None:
        """Return the spec of table `name`, if mapped."""
        return next((t for t in self.tables() if t.table == name), None)

    def setting(self, spec: TableSpec) -> str:
        """Where the spec is written in the `mapping` setting."""
        return "mapping.subject" if spec is self.subject else \
            f"mapping.related.{next(i for i, s in enumerate(self.related) if s is spec)}"

    def parent(self, join: JoinSpec) -> TableSpec:
        """The spec whose rows `join` joins to (valid once relations_problem found none)."""
        if join.table is None:
            return self.subject
        return next(t for t in self.tables() if t.table == join.table)

    def columns(self, spec: TableSpec) -> list[str]:
        """The columns to read from `spec`'s table: its own and those joined to."""
        return spec.columns(
            join.to for other in self.related for join in other.joins
            if self.parent(join) is spec
        )

    def searches(self) -> frozenset[str]:
        """The keys of SubjectIdentity the mapped tables are matched by."""
        keys = {"email": "emails", "customer_id": "customer_ids", "phone": "phones",
                "ip": "ips"}
        return frozenset(keys[key] for spec in self.tables() for key in spec.match)

    def relations_problem(self) -> tuple[str, str] | None:
        """The first join that names no single mapped table or closes a cycle, as (setting,
        what is wrong)."""
        for spec in self.related:
            for index, join in enumerate(spec.joins):
                where = f"{_place(f'{self.setting(spec)}.join', spec.joins, index)}.table"
                named = [t for t in self.tables() if t.table == join.table]
                if join.table is not None and not named:
                    return where, f"{join.table!r} is not a mapped table"
                if len(named) > 1:
                    return where, f"{join.table!r} is mapped more than once, so the join is " \
                        "ambiguous (give one table several joins instead)"
        for spec in self.related:
            cycle = self._cycle(spec, [])
            if cycle:
                path = " -> ".join(t.table for t in cycle)
                return f"{self.setting(cycle[0])}.join", f"the joins form a cycle ({path})"
        return None

    def _cycle(self, spec: TableSpec, trail: list[TableSpec]) -> list[TableSpec]:
        """The first cycle the joins from `spec` (reached by `trail`) run into, or none."""
        if any(spec is seen for seen in trail):
            return [*trail[next(i for i, s in enumerate(trail) if s is spec):], spec]
        for join in spec.joins:
            cycle = self._cycle(self.parent(join), [*trail, spec])
            if cycle:
                return cycle
        return []

    def reading_order(self) -> list[TableSpec]:
        """The tables in the order they are read: each after every table it joins to."""
        order: list[TableSpec] = []
        waiting = self.tables()
        while waiting:
            ready = next(spec for spec in waiting if all(
                any(self.parent(j) is done for done in order) for j in spec.joins))
            order.append(ready)
            waiting = [spec for spec in waiting if spec is not ready]
        return order


def load_mapping(settings: Mapping[str, Any]) -> TableMapping:
    """Read the `mapping` setting (inline) or `mapping_file` (YAML); AdapterConfigError if wrong."""
    raw = settings.get("mapping")
    if raw is None and "mapping_file" in settings:
        path = Path(settings["mapping_file"])
        try:
            raw = yaml.safe_load(path.read_text())
        except OSError as error:
            raise AdapterConfigError(f"setting 'mapping_file': cannot read {path}: "
                                     f"{error.strerror}.") from None
        except yaml.YAMLError as error:
            raise AdapterConfigError(f"setting 'mapping_file': {path} is not valid YAML: "
                                     f"{error}.") from None
    if raw is None:
        raise AdapterConfigError("setting 'mapping' (or 'mapping_file') is required.")
    try:
        mapping = TableMapping.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(["mapping", *(str(part) for part in first["loc"])])
        raise AdapterConfigError(f"setting {where!r}: {first['msg']}.") from None
    problem = mapping.relations_problem()
    if problem:
        raise AdapterConfigError(f"setting {problem[0]!r}: {problem[1]}.")
    return mapping


def check_schema(mapping: TableMapping, present: Callable[[str], Collection[str] | None],
                 container: str) -> None:
    """Raise AdapterConfigError naming the first setting whose table or column is missing;
    `present` gives a table's columns, None for a table the `container` lacks."""
    for spec in mapping.tables():
        path = mapping.setting(spec)
        columns = present(spec.table)
        if columns is None:
            raise AdapterConfigError(f"setting '{path}.table': the {container} has no table "
                                     f"{spec.table!r}.")
        named = [*spec.named_columns(path), *(
            (f"{_place(f'{mapping.setting(other)}.join', other.joins, index)}.to", join.to)
            for other in mapping.related for index, join in enumerate(other.joins)
            if mapping.parent(join) is spec)]
        for where, column in named:
            if column is not None and column not in columns:
                raise AdapterConfigError(f"setting {where!r}: table {spec.table!r} has no "
                                         f"column {column!r}.")


Conditions = list[tuple[str, Collection[str]]]


class RowReader(Protocol):
    """Reads `columns` of a mapped table's rows where any condition's column holds a value."""

    def rows(
        self, spec: TableSpec, columns: list[str], conditions: Conditions
    ) -> Iterable[Mapping[str, Any]]: ...


def _identity_values(subject: SubjectIdentity, key: IdentityKey) -> frozenset[str]:
    return {
        "email": subject.emails,
        "customer_id": subject.customer_ids,
        "phone": subject.phones,
        "ip": subject.ips,
    }[key]


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def unix_time(value: Any) -> str:
    """Render a Unix timestamp as a date and time a person reads."""
    try:
        return datetime.fromtimestamp(int(value), UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (TypeError, ValueError, OverflowError):
        return _text(value)


def customer_columns(spec: TableSpec) -> list[str]:
    """The columns a customer is listed by: the first e-mail match, the `since` column, and
    those of `where`."""
    emails = spec.match.get("email", [])
    if not emails:
        raise AdapterConfigError("mapping.subject.match names no e-mail column: customers "
                                 "cannot be listed")
    return list(dict.fromkeys([emails[0], *([spec.since] if spec.since else []),
                               *spec.where]))


def listed_customer(spec: TableSpec, row: Mapping[str, Any]) -> Customer | None:
    """The customer a row of the subject table names, if it has an address and its `where`
    holds."""
    if any(str(row[column]) != str(value) for column, value in spec.where.items()):
        return None
    email = _text(row[spec.match["email"][0]])
    if not email:
        return None
    return Customer(email, _day(row[spec.since]) if spec.since else None)


def dated_columns(spec: TableSpec) -> list[str]:
    """The columns a row's age is read by: `dated` and those of `where`."""
    return list(dict.fromkeys([*([spec.dated] if spec.dated else []), *spec.where]))


def count_aged(spec: TableSpec, rows: Iterable[Mapping[Any, Any]], before: date) -> int:
    """How many of `rows` that count (their `where` holds) are dated before `before`."""
    if spec.dated is None:
        return 0
    return sum(1 for row in rows
               if all(str(row[column]) == str(value) for column, value in spec.where.items())
               and (day := _day(row[spec.dated])) is not None and day < before)


def aged_by_table(mapping: "TableMapping", count: Callable[[TableSpec], int]
                  ) -> dict[str, int]:
    """The aged records of each dated table, by its label, as `count` counts them."""
    aged: dict[str, int] = {}
    for spec in mapping.tables():
        if spec.dated:
            aged[spec.label] = aged.get(spec.label, 0) + count(spec)
    return aged


def _day(value: Any) -> date | None:
    """A date column's value as a day: a date, an ISO text, or a Unix timestamp."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if text.isdigit():
        return datetime.fromtimestamp(int(text), UTC).date()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def row_findings(source: str, spec: TableSpec, row: Mapping[str, Any]) -> list[Finding]:
    """Turn one row into findings: one per mapped non-empty field, one for an activity."""
    key = "/".join(_text(row[column]) for column in spec.keys)
    found = [
        Finding(f.category, f.label, text, source, RecordRef(source, spec.table, key, column))
        for column, f in spec.fields.items()
        if (text := _text(row[column]))
    ]
    if spec.activity is not None:
        context = {
            column: unix_time(row[column]) if column in spec.timestamps else text
            for column in spec.context
            if (text := _text(row[column]))
        }
        summary = _text(row[spec.summary]) if spec.summary else spec.label
        found.append(Finding(spec.activity, spec.label, summary or spec.label, source,
                             RecordRef(source, spec.table, key), context))
    return found


def mapped_findings(
    source: str, mapping: TableMapping, reader: RowReader, subject: SubjectIdentity
) -> list[Finding]:
    """Find the subject's rows, then table by table the rows matched directly or joined to
    rows already found: one read per table, however deep the relations go."""
    found: dict[int, list[Mapping[str, Any]]] = {}  # by id of the spec
    findings: list[Finding] = []
    for spec in mapping.reading_order():
        conditions: Conditions = [
            (column, values)
            for key, columns in spec.match.items()
            if (values := _identity_values(subject, key))
            for column in columns
        ]
        for join in spec.joins:
            parents = found[id(mapping.parent(join))]
            joined = {_text(row[join.to]) for row in parents} - {""}
            if joined:
                conditions.append((join.column, joined))
        rows = list(reader.rows(spec, mapping.columns(spec), conditions)) if conditions else []
        found[id(spec)] = rows
        findings += [f for row in rows for f in row_findings(source, spec, row)]
    return findings
