"""The append-only, hash-chained audit trail: record events and verify the chain."""

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import select, update

from dsr.actors import Actor
from dsr.database import utcnow
from dsr.extensions import db
from dsr.models import AuditEvent, AuditHead

GENESIS = "0" * 64

# Details are codes and references (trigger names, states, field names, ids), never prose or
# personal values: the trail must never need purging. Only these names are accepted; a new
# kind of detail is added here, deliberately.
DETAIL_KEYS = frozenset({
    "trigger", "from_state", "to_state", "fields", "type", "via", "rows", "user_id",
    "token_id", "roles", "source", "sources", "outcome", "count", "code", "flag", "change",
    "category", "finding", "ground", "failed", "bounced",
})
_SAFE_VALUE = re.compile(r"[A-Za-z0-9_.:/+\-]{0,80}")

Detail = str | int | bool | None | list[str]


def check_details(details: dict[str, Any]) -> None:
    """Raise ValueError unless every detail is a short code, a number or a flag."""
    for key, value in details.items():
        if key not in DETAIL_KEYS:
            raise ValueError(f"audit detail {key!r} is not one of the known detail names")
        values = value if isinstance(value, list) else [value]
        for item in values:
            if item is None or isinstance(item, bool | int):
                continue
            if not (isinstance(item, str) and _SAFE_VALUE.fullmatch(item)):
                raise ValueError(
                    f"audit detail {key!r} must be a code, number or flag, never free text "
                    "or a personal value"
                )


class ChainLink(Protocol):
    """What hashing reads from an event: an AuditEvent, or a row of its columns."""

    seq: int
    occurred_at: datetime
    actor: str
    action: str
    request_id: int | None
    details: dict[str, Any]
    prev_hash: str


def canonical(event: ChainLink) -> bytes:
    """Encode the hashed fields of an event the same way on every backend."""
    fields = {
        "seq": event.seq,
        "occurred_at": event.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": event.actor,
        "action": event.action,
        "request_id": event.request_id,
        "details": event.details,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(event: ChainLink) -> str:
    """Return the SHA-256 of an event's canonical encoding."""
    return hashlib.sha256(canonical(event)).hexdigest()


def record(
    action: str, *, actor: Actor, request_id: int | None = None, **details: Detail
) -> AuditEvent:
    """Append an event to the chain in the current transaction (the caller commits)."""
    check_details(details)
    session = db.session
    # Writing the head row first takes the write lock (SQLite) or the row lock (PostgreSQL)
    # until commit, so the head read next is the true one and appends never fork.
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq))
    head = session.execute(select(AuditHead.seq, AuditHead.hash)).one()
    event = AuditEvent(
        seq=head.seq + 1,
        prev_hash=head.hash,
        occurred_at=utcnow(),
        actor=actor.ref,
        action=action,
        request_id=request_id,
        details=details,
    )
    event.hash = event_hash(event)
    session.add(event)
    session.flush()
    session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(seq=event.seq, hash=event.hash)
    )
    return event


@dataclass(frozen=True)
class ChainReport:
    """The outcome of a verification: how many events, the head, and the first break if any."""

    count: int
    head: str
    broken_seq: int | None = None
    problem: str | None = None
    expected_found: bool = False

    @property
    def intact(self) -> bool:
        return self.broken_seq is None


class StoredLink(ChainLink, Protocol):
    hash: str


def check_chain(events: Iterable[StoredLink], expect: str | None = None) -> ChainReport:
    """Walk events in seq order and report the first one that breaks the chain."""
    expected_seq, expected_prev, count, found = 1, GENESIS, 0, expect == GENESIS
    for event in events:
        if event.seq != expected_seq:
            return ChainReport(
                count, expected_prev, event.seq,
                f"expected event {expected_seq} here: events were deleted or renumbered",
            )
        if event.prev_hash != expected_prev:
            return ChainReport(
                count, expected_prev, event.seq,
                f"does not follow event {expected_seq - 1}: an event was inserted, deleted "
                "or moved",
            )
        if event_hash(event) != event.hash:
            return ChainReport(count, expected_prev, event.seq, "its contents were changed")
        count += 1
        found = found or event.hash == expect
        expected_seq, expected_prev = event.seq + 1, event.hash
    return ChainReport(count, expected_prev, expected_found=found)


def verify(expect: str | None = None) -> ChainReport:
    """Verify the whole chain stored in the database, streaming it in seq order, then check
    that it ends where the head row says and, if given, that it still holds `expect` (a head
    printed by an earlier run and kept outside the database)."""
    # Plain rows, not ORM objects: the walk reads each event once and changes nothing.
    result = db.session.execute(
        select(
            AuditEvent.seq, AuditEvent.occurred_at, AuditEvent.actor, AuditEvent.action,
            AuditEvent.request_id, AuditEvent.details, AuditEvent.prev_hash, AuditEvent.hash,
        )
        .order_by(AuditEvent.seq)
        .execution_options(yield_per=5000)
    )
    try:
        report = check_chain(result, expect)
    finally:
        result.close()  # a break found early leaves PostgreSQL's server-side cursor open
    if not report.intact:
        return report
    head = db.session.execute(select(AuditHead.seq, AuditHead.hash)).one()
    if (head.seq, head.hash) != (report.count, report.head):
        if head.seq > report.count:
            problem = f"the trail ends at event {report.count}, but event {head.seq} was written"
            return ChainReport(report.count, report.head, report.count + 1,
                               f"{problem}: events were deleted from the end")
        return ChainReport(report.count, report.head, head.seq + 1,
                           "events after the recorded head were added outside dsr")
    if expect is not None and not report.expected_found:
        return ChainReport(report.count, report.head, report.count,
                           f"the chain no longer holds the expected head {expect}: it was "
                           "cut or rewritten")
    return report


def events_for(request_id: int) -> list[AuditEvent]:
    """Return the events of one request, oldest first."""
    return list(
        db.session.execute(
            select(AuditEvent).where(AuditEvent.request_id == request_id).order_by(AuditEvent.seq)
        ).scalars()
    )
