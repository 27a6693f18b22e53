"""The table mapping shared by the sql and csv adapters: which table identifies the subject,
which columns hold which category, and how related tables join to it."""

import re
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from dsr.adapters import AdapterConfigError, Finding, RecordRef, SubjectIdentity
from dsr.categories import Category

IdentityKey = Literal["email", "customer_id", "phone", "ip"]
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def _identifier(name: str) -> str:
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"{name!r} is not a plain table or column name")
    return name


class FieldSpec(BaseModel):
    """A column that holds personal information."""

    model_config = ConfigDict(extra="forbid")
    category: Category
    label: str


class JoinSpec(BaseModel):
    """Rows of a related table belong to the subject when `column` equals the subject's `to`."""

    model_config = ConfigDict(extra="forbid")
    column: str
    to: str

    _names = field_validator("column", "to")(_identifier)


class TableSpec(BaseModel):
    """One table (or CSV file) and what its columns mean."""

    model_config = ConfigDict(extra="forbid")

    table: str
    key: str
    label: str
    match: dict[IdentityKey, str] = {}
    join: JoinSpec | None = None
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

    _table = field_validator("table", "key")(_identifier)

    @field_validator("match")
    @classmethod
    def _match_columns(cls, value: dict[IdentityKey, str]) -> dict[IdentityKey, str]:
        for column in value.values():
            _identifier(column)
        return value

    @field_validator("where")
    @classmethod
    def _where_columns(cls, value: dict[str, str | int]) -> dict[str, str | int]:
        for column in value:
            _identifier(column)
        return value

    @field_validator("fields")
    @classmethod
    def _field_columns(cls, value: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        for column in value:
            _identifier(column)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "TableSpec":
        for column in [*self.context, *([self.summary] if self.summary else [])]:
            _identifier(column)
        if set(self.timestamps) - set(self.context):
            raise ValueError("timestamps must be context columns")
        if set(self.casefold) - set(self.match.values()):
            raise ValueError("casefold columns must be match columns")
        unknown = set(self.writable) - set(self.fields)
        if unknown:
            raise ValueError(f"writable columns {sorted(unknown)} are not among the fields")
        if self.activity is not None and not self.activity.is_activity:
            raise ValueError(f"activity must be a kind of record, not {self.activity}")
        if (self.summary or self.context) and self.activity is None:
            raise ValueError("summary and context describe an activity: set activity too")
        return self

    def columns(self, extra: Iterable[str] = ()) -> list[str]:
        """Every column the mapping reads from this table, and `extra` ones."""
        names = [self.key, *self.match.values(), *self.fields, *self.context, *self.where, *extra]
        if self.join:
            names.append(self.join.column)
        if self.summary:
            names.append(self.summary)
        return list(dict.fromkeys(names))

    def indexed_columns(self) -> list[str]:
        """The columns lookups search by, which therefore need an index."""
        names = list(self.match.values())
        if self.join:
            names.append(self.join.column)
        return list(dict.fromkeys(names))


class TableMapping(BaseModel):
    """The subject table and the tables related to it."""

    model_config = ConfigDict(extra="forbid")

    subject: TableSpec
    related: list[TableSpec] = []

    @model_validator(mode="after")
    def _reachable(self) -> "TableMapping":
        if not self.subject.match:
            raise ValueError("subject.match must name at least one identity column")
        for spec in self.related:
            if spec.join is None and not spec.match:
                raise ValueError(f"related table {spec.table!r} needs a join or a match")
        return self

    def columns(self, spec: TableSpec) -> list[str]:
        """The columns to read from `spec`'s table: the subject's include the join targets."""
        if spec is not self.subject:
            return spec.columns()
        return spec.columns(r.join.to for r in self.related if r.join)

    def searches(self) -> frozenset[str]:
        """The keys of SubjectIdentity the mapped tables are matched by."""
        keys = {"email": "emails", "customer_id": "customer_ids", "phone": "phones",
                "ip": "ips"}
        return frozenset(keys[key] for spec in self.tables() for key in spec.match)

    def tables(self) -> list[TableSpec]:
        """The subject table first, then the related ones."""
        return [self.subject, *self.related]

    def table(self, name: str) -> TableSpec | None:
        """Return the spec of table `name`, if mapped."""
        return next((t for t in self.tables() if t.table == name), None)


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
        return TableMapping.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(["mapping", *(str(part) for part in first["loc"])])
        raise AdapterConfigError(f"setting {where!r}: {first['msg']}.") from None


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


def row_findings(source: str, spec: TableSpec, row: Mapping[str, Any]) -> list[Finding]:
    """Turn one row into findings: one per mapped non-empty field, one for an activity."""
    key = _text(row[spec.key])
    found = [
        Finding(f.category, f.label, _text(row[column]), source,
                RecordRef(source, spec.table, key, column))
        for column, f in spec.fields.items()
        if _text(row[column])
    ]
    if spec.activity is not None:
        context = {
            column: unix_time(row[column]) if column in spec.timestamps else _text(row[column])
            for column in spec.context
            if _text(row[column])
        }
        summary = _text(row[spec.summary]) if spec.summary else spec.label
        found.append(Finding(spec.activity, spec.label, summary or spec.label, source,
                             RecordRef(source, spec.table, key), context))
    return found


def mapped_findings(
    source: str, mapping: TableMapping, reader: RowReader, subject: SubjectIdentity
) -> list[Finding]:
    """Find the subject's rows, then the related rows joined to them or matched directly."""

    def matches(spec: TableSpec) -> Conditions:
        return [
            (column, values)
            for key, column in spec.match.items()
            if (values := _identity_values(subject, key))
        ]

    subjects = list(
        reader.rows(mapping.subject, mapping.columns(mapping.subject), matches(mapping.subject))
    )
    findings = [f for row in subjects for f in row_findings(source, mapping.subject, row)]
    for spec in mapping.related:
        conditions = matches(spec)
        if spec.join is not None and subjects:
            joined = {_text(row[spec.join.to]) for row in subjects} - {""}
            conditions.append((spec.join.column, joined))
        if conditions:
            rows = reader.rows(spec, mapping.columns(spec), conditions)
            findings += [f for row in rows for f in row_findings(source, spec, row)]
    return findings
