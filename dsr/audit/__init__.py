"""The append-only, hash-chained audit trail: record events and verify the chain."""

import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import select, update

from dsr.actors import Actor
from dsr.audit import keys, witness
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
    key_id: str | None


def canonical(event: ChainLink) -> bytes:
    """Encode the hashed fields of an event the same way on every backend (the key's id
    among them, once the trail is keyed)."""
    fields = {
        "seq": event.seq,
        "occurred_at": event.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": event.actor,
        "action": event.action,
        "request_id": event.request_id,
        "details": event.details,
        "prev_hash": event.prev_hash,
    }
    if event.key_id is not None:
        fields["key_id"] = event.key_id
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(event: ChainLink, key: bytes | None = None) -> str:
    """An event's HMAC-SHA256 under `key`; without one (events from before the trail was
    keyed), the plain SHA-256 of its canonical encoding."""
    data = canonical(event)
    if key is None:
        return hashlib.sha256(data).hexdigest()
    return hmac.new(key, data, hashlib.sha256).hexdigest()


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
    signing = keys.signing()
    event = AuditEvent(
        seq=head.seq + 1,
        prev_hash=head.hash,
        occurred_at=utcnow(),
        actor=actor.ref,
        action=action,
        request_id=request_id,
        details=details,
        key_id=signing[0] if signing else None,
    )
    event.hash = event_hash(event, signing[1] if signing else None)
    session.add(event)
    session.flush()
    session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(seq=event.seq, hash=event.hash)
    )
    witness.note(event.seq, event.hash)
    return event


@dataclass(frozen=True)
class ChainReport:
    """The outcome of a verification: how many events, the head, the first break if any,
    and what can be said of the events before it (`vouched`), nothing more."""

    count: int
    head: str
    broken_seq: int | None = None
    problem: str | None = None
    expected_found: bool = False
    vouched: str = ""
    witnessed: int = 0

    @property
    def intact(self) -> bool:
        return self.broken_seq is None


class StoredLink(ChainLink, Protocol):
    hash: str


@dataclass
class _Walk:
    """What the walk has seen so far: enough to say what it can vouch for."""

    unkeyed: int = 0  # events 1..unkeyed were written before the trail was keyed
    keyed_from: int | None = None
    last_keyed: int | None = None
    agreed: int = 0  # the last event whose hash the witness recorded as it is

    def vouched(self) -> str:
        said = []
        if self.unkeyed:
            said.append(f"Events 1 to {self.unkeyed} were written before the trail was keyed: "
                        "whoever held the database could have rewritten them.")
        if self.keyed_from is not None and self.last_keyed is not None:
            said.append(f"Events {self.keyed_from} to {self.last_keyed} verify under the "
                        "audit keys.")
        if self.agreed:
            said.append(f"Events 1 to {self.agreed} are the ones the witness saw.")
        return " ".join(said)


def _link_problem(event: StoredLink, walk: _Walk, known: dict[str, bytes]) -> str | None:
    """Why an event in its place does not verify (its hash, its key), if it does not."""
    if event.key_id is None:
        if walk.keyed_from is not None:
            return ("it is not keyed, but the events before it are: it was written without "
                    "the key")
        return "its contents were changed" if event_hash(event) != event.hash else None
    if event.key_id not in known:
        return (f"it was hashed with audit key {event.key_id!r}, which is not configured "
                "(AUDIT_KEYS, AUDIT_KEY_FILE): add that key back to verify it")
    if not hmac.compare_digest(event_hash(event, known[event.key_id]), event.hash):
        return (f"its hash does not match its contents under audit key {event.key_id!r}: it "
                "was changed, or written by someone without the key")
    return None


def check_chain(events: Iterable[StoredLink], expect: str | None = None,
                known: dict[str, bytes] | None = None,
                seen: dict[int, "witness.Seen"] | None = None) -> ChainReport:
    """Walk events in seq order and report the first one that breaks the chain: out of
    place, not verifying under its key, or not the event the witness saw there."""
    known, seen = known or {}, seen or {}
    expected_seq, expected_prev, count, found = 1, GENESIS, 0, expect == GENESIS
    walk = _Walk()

    def broken(seq: int, problem: str) -> ChainReport:
        return ChainReport(count, expected_prev, seq, problem, vouched=walk.vouched())

    for event in events:
        if event.seq != expected_seq:
            return broken(event.seq, f"expected event {expected_seq} here: events were "
                                     "deleted or renumbered")
        if event.prev_hash != expected_prev:
            return broken(event.seq, f"does not follow event {expected_seq - 1}: an event "
                                     "was inserted, deleted or moved")
        if (problem := _link_problem(event, walk, known)) is not None:
            return broken(event.seq, problem)
        if (witnessed := seen.get(event.seq)) is not None:
            if witnessed.hash != event.hash:
                where = (f"event {event.seq} differs from it" if walk.agreed == event.seq - 1
                         else f"the first event that differs from it is one of events "
                              f"{walk.agreed + 1} to {event.seq}")
                return broken(event.seq, f"the chain differs from the head the witness "
                                         f"recorded at {witnessed.at} (event {event.seq}): "
                                         f"{where}")
            walk.agreed = event.seq
        if event.key_id is None:
            walk.unkeyed = event.seq
        else:
            walk.keyed_from = walk.keyed_from or event.seq
            walk.last_keyed = event.seq
        count += 1
        found = found or event.hash == expect
        expected_seq, expected_prev = event.seq + 1, event.hash
    return ChainReport(count, expected_prev, expected_found=found, vouched=walk.vouched(),
                       witnessed=walk.agreed)


def verify(expect: str | None = None) -> ChainReport:
    """Verify the whole chain stored in the database, streaming it in seq order, against the
    audit keys and the witness; then check that it ends where the head row and the witness
    say and, if given, that it still holds `expect` (a head kept elsewhere)."""
    try:
        seen = {head.seq: head for head in witness.read()}
    except witness.WitnessUnreadable as error:
        return ChainReport(0, GENESIS, 0, f"{error}: the witness was tampered with")
    # Plain rows, not ORM objects: the walk reads each event once and changes nothing.
    result = db.session.execute(
        select(
            AuditEvent.seq, AuditEvent.occurred_at, AuditEvent.actor, AuditEvent.action,
            AuditEvent.request_id, AuditEvent.details, AuditEvent.prev_hash, AuditEvent.hash,
            AuditEvent.key_id,
        )
        .order_by(AuditEvent.seq)
        .execution_options(yield_per=5000)
    )
    try:
        report = check_chain(result, expect, keys.configured(), seen)
    finally:
        result.close()  # a break found early leaves PostgreSQL's server-side cursor open
    if not report.intact:
        return report

    def broken(seq: int, problem: str) -> ChainReport:
        return ChainReport(report.count, report.head, seq, problem, vouched=report.vouched)

    newest = max(seen.values(), key=lambda head: head.seq, default=None)
    if newest is not None and newest.seq > report.count:
        return broken(report.count + 1, f"the witness recorded event {newest.seq} at "
                                        f"{newest.at}, but the trail ends at event "
                                        f"{report.count}: events were cut from the end")
    head = db.session.execute(select(AuditHead.seq, AuditHead.hash)).one()
    if (head.seq, head.hash) != (report.count, report.head):
        if head.seq > report.count:
            problem = f"the trail ends at event {report.count}, but event {head.seq} was written"
            return broken(report.count + 1, f"{problem}: events were deleted from the end")
        return broken(head.seq + 1, "events after the recorded head were added outside dsr")
    if expect is not None and not report.expected_found:
        return broken(report.count, f"the chain no longer holds the expected head {expect}: "
                                    "it was cut or rewritten")
    return report


def events_for(request_id: int) -> list[AuditEvent]:
    """Return the events of one request, oldest first."""
    return list(
        db.session.execute(
            select(AuditEvent).where(AuditEvent.request_id == request_id).order_by(AuditEvent.seq)
        ).scalars()
    )
