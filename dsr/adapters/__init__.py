"""The source-adapter contract: how dsr reaches the systems that hold personal data.

An adapter is any object with a `name`, a `lookup(subject)` that returns Findings, and a
`check()` that reports reachability. It is read-only unless it also has
`correct(ref, changes)`. Built-ins live beside this module; third-party adapters register a
factory `(name, settings) -> adapter` in the `dsr.adapters` entry-point group.
"""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol, runtime_checkable

from dsr.categories import Category

__all__ = [
    "AdapterConfigError",
    "AgedRecords",
    "Category",
    "ClaimedIp",
    "CorrectableAdapter",
    "Customer",
    "CustomerListing",
    "Finding",
    "Findings",
    "Health",
    "RecordRef",
    "SourceAdapter",
    "SourceAuthFailed",
    "SourceError",
    "SourceNotWritable",
    "SourceReplyInvalid",
    "SourceUnavailable",
    "SubjectIdentity",
    "identification_notes",
]


@dataclass(frozen=True, order=True)
class ClaimedIp:
    """An IP address the requester says they visited from, and the first and last day (UTC)
    they did: a claim, not a proof, so a source releases only what nobody else left there."""

    address: str
    first_day: date
    last_day: date

    def covers(self, day: date) -> bool:
        """Tell whether `day` lies in the claimed period (both ends included)."""
        return self.first_day <= day <= self.last_day

    def as_json(self) -> dict[str, str]:
        """The claim as dsr stores it on the request."""
        return {"address": self.address, "first_day": self.first_day.isoformat(),
                "last_day": self.last_day.isoformat()}

    @classmethod
    def from_json(cls, stored: Mapping[str, str]) -> "ClaimedIp":
        """Read a claim as `as_json` stored it."""
        return cls(stored["address"], date.fromisoformat(stored["first_day"]),
                   date.fromisoformat(stored["last_day"]))


@dataclass(frozen=True)
class SubjectIdentity:
    """What dsr knows of a subject: the keys sources are searched by.

    `ips` holds only addresses tied to the subject's authenticated account (found in its
    billing activity, say). `visitor_ids` are analytics visitor IDs the requester's own
    browser presented (Matomo's first-party cookie), never one typed. `claimed_ips` are
    addresses the requester merely says they used: a source releases visits from one only
    where nobody else used it in the claimed days.
    """

    emails: frozenset[str]
    customer_ids: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()
    ips: frozenset[str] = frozenset()
    visitor_ids: frozenset[str] = frozenset()
    claimed_ips: frozenset[ClaimedIp] = frozenset()

    @classmethod
    def of(cls, *emails: str, claimed_ips: Iterable[ClaimedIp] = (),
           **keys: Iterable[str]) -> "SubjectIdentity":
        """Build an identity from e-mail addresses and other keys, normalised."""
        return cls(
            emails=frozenset(e.strip().lower() for e in emails if e.strip()),
            claimed_ips=frozenset(claimed_ips),
            **{name: frozenset(str(v).strip() for v in values) for name, values in keys.items()},
        )


# The keys a subject is searched by, as SubjectIdentity names them, and as a person reads them.
IDENTIFIERS = {"emails": "e-mail address", "customer_ids": "customer number",
               "phones": "telephone number", "ips": "IP address",
               "visitor_ids": "analytics visitor ID", "claimed_ips": "visitor IP address"}

# How an adapter's warning tells the subject what more would let the company identify them
# in its records (GDPR Art. 11(2)): the answer quotes such warnings, without the mark.
IDENTIFICATION = "Art. 11(2): "


def identification_notes(warnings: Iterable[str]) -> list[str]:
    """The sentences of `warnings` meant for the subject under Art. 11(2), unmarked."""
    return [w.partition(IDENTIFICATION)[2] for w in warnings if IDENTIFICATION in w]


def searched_by(adapter: object) -> frozenset[str]:
    """The keys of SubjectIdentity an adapter searches by: its `searches`, or, for one that
    does not say, every key it is given."""
    declared = getattr(adapter, "searches", None)
    return frozenset(declared) if declared is not None else frozenset(IDENTIFIERS)


@dataclass(frozen=True)
class RecordRef:
    """Where a value lives in its source: the kind of record, its key, and the field."""

    source: str
    kind: str
    key: str
    field: str = ""


@dataclass(frozen=True)
class Finding:
    """One piece of personal information, or one recorded activity, found in a source."""

    category: Category
    label: str
    value: str
    source: str
    record: RecordRef
    context: Mapping[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Customer:
    """A customer as a source lists them for a notice: where they are written to, and since
    when they are a customer, where the source says."""

    email: str
    since: date | None = None


class Findings(list[Finding]):
    """What a lookup may return when it has something to say besides its findings."""

    def __init__(self, items: Iterable[Finding] = (), warnings: Iterable[str] = ()) -> None:
        super().__init__(items)
        self.warnings = list(warnings)


@dataclass(frozen=True)
class Health:
    """The answer of `check()`: whether the source answers, and what to look at if not."""

    ok: bool
    detail: str
    warnings: tuple[str, ...] = ()


class SourceError(Exception):
    """A source could not answer. The message is shown to staff and stored on the request,
    so it never holds personal data."""


class SourceUnavailable(SourceError):
    """The source did not answer in time, or not at all."""


class SourceAuthFailed(SourceError):
    """The source refused dsr's credentials."""


class SourceReplyInvalid(SourceError):
    """The source answered with something dsr cannot read."""


class SourceNotWritable(SourceError):
    """The source cannot take this change through dsr (the field is not writable there):
    staff make it by hand."""


class AdapterConfigError(ValueError):
    """A source's settings are wrong; the message names the setting."""


@runtime_checkable
class SourceAdapter(Protocol):
    """A system that holds personal data, as dsr reads it."""

    name: str

    def lookup(self, subject: SubjectIdentity) -> Iterable[Finding]:
        """Return everything the source holds on the subject, and nothing on anyone else."""
        ...

    def check(self) -> Health:
        """Tell whether the source can be reached with the configured settings."""
        ...


@runtime_checkable
class CorrectableAdapter(SourceAdapter, Protocol):
    """An adapter that can write a correction back to its source."""

    def correct(self, ref: RecordRef, changes: Mapping[Category, str]) -> None:
        """Write `changes` to the record `ref` points at; raise SourceNotWritable when the
        source does not take this change, SourceError when writing it failed."""
        ...


@runtime_checkable
class CustomerListing(SourceAdapter, Protocol):
    """An adapter that can list every customer of its source (an identifying one)."""

    def customers(self) -> Iterator[Customer]:
        """Yield every current customer, page by page as the source gives them: never
        read the whole list into memory."""
        ...


@runtime_checkable
class AgedRecords(SourceAdapter, Protocol):
    """An adapter that can tell the age of its records, for the retention report. Kinds it
    counts whatever their age (it cannot date them, only tell that they are due a look) it
    names in an `undated` attribute."""

    def aged(self, before: date) -> dict[str, int]:
        """How many records the source dates before `before`, by kind of record as a person
        reads it; counts only, never which records. dsr deletes nothing in a source."""
        ...


AdapterFactory = Any  # a class or callable: factory(name: str, settings: Mapping) -> adapter
