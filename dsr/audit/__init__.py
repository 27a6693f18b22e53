"""The append-only, hash-chained audit trail: record events and verify the chain."""

import hashlib
import hmac
import json
import queue
import re
import threading
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import event as orm_events
from sqlalchemy import select, update
from sqlalchemy.orm import Session, SessionTransaction

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


# The head this transaction has reached, and whether the head row still has to be told:
# appends after the first of a transaction chain on in memory, and go to the database with
# its next flush, the events in one batched INSERT and the head in one UPDATE.
_HEAD = "dsr.audit.head"
_HEAD_UNWRITTEN = "dsr.audit.head_unwritten"


def record(
    action: str, *, actor: Actor, request_id: int | None = None, **details: Detail
) -> AuditEvent:
    """Append an event to the chain in the current transaction (the caller commits)."""
    check_details(details)
    session = db.session
    head: tuple[int, str] | None = session.info.get(_HEAD)
    if head is None:
        # Writing the head row takes the write lock (SQLite) or the row lock (PostgreSQL)
        # until commit, so the head it returns is the true one and appends never fork.
        row = session.execute(update(AuditHead).where(AuditHead.id == 1)
                              .values(seq=AuditHead.seq)
                              .returning(AuditHead.seq, AuditHead.hash)).one()
        head = (row.seq, row.hash)
    signing = keys.signing()
    event = AuditEvent(
        seq=head[0] + 1,
        prev_hash=head[1],
        occurred_at=utcnow(),
        actor=actor.ref,
        action=action,
        request_id=request_id,
        details=details,
        key_id=signing[0] if signing else None,
    )
    event.hash = event_hash(event, signing[1] if signing else None)
    session.add(event)
    session.info[_HEAD], session.info[_HEAD_UNWRITTEN] = (event.seq, event.hash), True
    witness.note(event.seq, event.hash)
    return event


def _write_head(session: Session, *_: object) -> None:
    """Before a flush that writes this transaction's new events, move the head row to
    the last of them."""
    if session.info.pop(_HEAD_UNWRITTEN, False):
        seq, digest = session.info[_HEAD]
        session.execute(update(AuditHead).where(AuditHead.id == 1)
                        .values(seq=seq, hash=digest))


def _forget_head(session: Session, transaction: SessionTransaction) -> None:
    """A transaction's end, however it ended (commit, rollback, close): the next one reads
    the head from the database again."""
    if transaction.parent is None:
        session.info.pop(_HEAD, None)
        session.info.pop(_HEAD_UNWRITTEN, None)


orm_events.listen(Session, "before_flush", _write_head)
orm_events.listen(Session, "after_transaction_end", _forget_head)


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

    @property
    def intact(self) -> bool:
        return self.broken_seq is None


# What the walk reads of each event, streamed in seq order: its columns as text, the time
# as the database spells it in the canonical form.
_COLUMNS = {
    "sqlite": "occurred_at",  # YYYY-MM-DD HH:MM:SS.ffffff, in UTC
    "postgresql": "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
}
_READ = ("SELECT seq, {moment}, actor, action, request_id, {details}, prev_hash, hash, "
         "key_id FROM audit_events ORDER BY seq")
_BATCH = 5000
_AHEAD = 4


def _stored_rows() -> Generator[tuple[Any, ...], None, None]:
    """Every event's stored columns as text, in seq order, a batch at a time from the
    driver itself (a server-side cursor on PostgreSQL): no ORM, no per-row conversion."""
    dialect = db.engine.dialect.name
    sql = _READ.format(moment=_COLUMNS[dialect],
                       details="details::text" if dialect == "postgresql" else "details")
    connection = db.session.connection().connection.dbapi_connection
    assert connection is not None
    if dialect == "postgresql":
        yield from _read_ahead(connection.cursor(name="audit_verify"), sql)
        return
    # SQLite reads in this process, mostly holding the GIL: a thread would only contend.
    cursor = connection.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(_BATCH):
            yield from rows
    finally:
        cursor.close()


def _read_ahead(cursor: Any, sql: str) -> Generator[tuple[Any, ...], None, None]:
    """The rows of `sql`, read by a thread up to _AHEAD batches ahead of the caller: while
    the caller hashes one batch, the database server makes the next (on another core) and
    the driver waits for it without the GIL. Closing the generator stops the thread."""
    batches: queue.Queue[list[tuple[Any, ...]] | BaseException | None] = queue.Queue(_AHEAD)
    stopped = threading.Event()

    def hand(item: list[tuple[Any, ...]] | BaseException | None) -> None:
        while not stopped.is_set():
            try:
                batches.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def read() -> None:
        try:
            cursor.execute(sql)
            while not stopped.is_set() and (rows := cursor.fetchmany(_BATCH)):
                hand(rows)
            hand(None)
        except BaseException as error:  # raised again in the caller's thread
            hand(error)

    reader = threading.Thread(target=read, name="dsr-audit-verify", daemon=True)
    reader.start()
    try:
        while (rows := batches.get()) is not None:
            if isinstance(rows, BaseException):
                raise rows
            yield from rows
    finally:
        stopped.set()
        reader.join()
        cursor.close()


def _encoded_in_python(seq: int) -> bytes:
    """One event's canonical encoding from its decoded columns (the slow, sure way)."""
    return canonical(db.session.get(AuditEvent, seq))  # type: ignore[arg-type]


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


def _hash_problem(seq: int, data: bytes, digest: str, key_id: str | None, walk: _Walk,
                  macs: dict[str, Any]) -> str | None:
    """Why an event does not verify (its key, its hash), if it does not."""
    if key_id is None:
        if walk.keyed_from is not None:
            return ("it is not keyed, but the events before it are: it was written without "
                    "the key")
        if hashlib.sha256(data).hexdigest() == digest \
                or hashlib.sha256(_encoded_in_python(seq)).hexdigest() == digest:
            return None
        return "its contents were changed"
    base = macs.get(key_id)
    if base is None:
        return (f"it was hashed with audit key {key_id!r}, which is not configured "
                "(AUDIT_KEYS, AUDIT_KEY_FILE): add that key back to verify it")
    for attempt in (data, None):
        mac = base.copy()
        mac.update(attempt if attempt is not None else _encoded_in_python(seq))
        if hmac.compare_digest(mac.hexdigest(), digest):
            return None
    return (f"its hash does not match its contents under audit key {key_id!r}: it was "
            "changed, or written by someone without the key")


def check_chain(events: Iterable[tuple[Any, ...]], expect: str | None = None,
                known: dict[str, bytes] | None = None,
                seen: dict[int, "witness.Seen"] | None = None) -> ChainReport:
    """Walk events (their stored columns, in seq order, as `_stored_rows` reads them) and
    report the first one that breaks the chain: out of place, not verifying under its key,
    or not the event the witness saw there."""
    macs = {key_id: hmac.new(key, digestmod=hashlib.sha256)
            for key_id, key in (known or {}).items()}
    seen = seen or {}
    expected_seq, expected_prev, count, found = 1, GENESIS, 0, expect == GENESIS
    walk = _Walk()

    def broken(seq: int, problem: str) -> ChainReport:
        walk.last_keyed = count if walk.keyed_from is not None else None
        return ChainReport(count, expected_prev, seq, problem, vouched=walk.vouched())

    steady_key: str | None = None  # the key of the events just before, and its HMAC
    steady_mac: Any = None
    for seq, moment, actor, action, request_id, details, prev_hash, digest, key_id in events:
        if seq != expected_seq:
            return broken(seq, f"expected event {expected_seq} here: events were deleted or "
                               "renumbered")
        if prev_hash != expected_prev:
            return broken(seq, f"does not follow event {expected_seq - 1}: an event was "
                               "inserted, deleted or moved")
        # The canonical encoding built from the stored text without decoding it: details
        # are stored canonically (CanonicalJSON) and codes need no escaping. Where that guess
        # is wrong (an event written otherwise), the hash does not match and the event is
        # encoded the sure way (`_encoded_in_python`). Inline: this loop is verify's time.
        key = f',"key_id":"{key_id}"' if key_id is not None else ""
        data = (f'{{"action":"{action}","actor":"{actor}","details":{details}{key},'
                f'"occurred_at":"{moment[:10]}T{moment[11:]}Z","prev_hash":"{prev_hash}",'
                f'"request_id":{"null" if request_id is None else request_id},'
                f'"seq":{seq}}}').encode()
        if key_id is not None and key_id == steady_key:  # keyed as the event before
            mac = steady_mac.copy()
            mac.update(data)
            if mac.hexdigest() != digest and (
                    problem := _hash_problem(seq, data, digest, key_id, walk, macs)):
                return broken(seq, problem)
        else:
            if (problem := _hash_problem(seq, data, digest, key_id, walk, macs)) is not None:
                return broken(seq, problem)
            if key_id is None:
                walk.unkeyed = seq
            else:
                walk.keyed_from = walk.keyed_from or seq
                steady_key, steady_mac = key_id, macs[key_id]
        if seen and (witnessed := seen.get(seq)) is not None:
            if witnessed.hash != digest:
                where = (f"event {seq} differs from it" if walk.agreed == seq - 1
                         else f"the first event that differs from it is one of events "
                              f"{walk.agreed + 1} to {seq}")
                return broken(seq, f"the chain differs from the head the witness recorded at "
                                   f"{witnessed.at} (event {seq}): {where}")
            walk.agreed = seq
        count += 1
        if digest == expect:
            found = True
        expected_seq, expected_prev = seq + 1, digest
    walk.last_keyed = count if walk.keyed_from is not None else None
    return ChainReport(count, expected_prev, expected_found=found, vouched=walk.vouched())


def verify(expect: str | None = None) -> ChainReport:
    """Verify the whole chain stored in the database, streaming it in seq order, against the
    audit keys and the witness; then check that it ends where the head row and the witness
    say and, if given, that it still holds `expect` (a head kept elsewhere)."""
    try:
        seen = {head.seq: head for head in witness.read()}
    except witness.WitnessUnreadable as error:
        return ChainReport(0, GENESIS, 0, f"{error}: the witness was tampered with")
    # Stored text, not ORM objects: the walk reads each event once, hashes it, and changes
    # nothing; a break found early closes the cursor (a server-side one on PostgreSQL).
    rows = _stored_rows()
    try:
        report = check_chain(rows, expect, keys.configured(), seen)
    finally:
        rows.close()
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
