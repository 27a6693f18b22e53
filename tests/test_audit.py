"""The audit trail: append-only in the database, hash-chained, and verified by `flask audit
verify`, which must catch tampering done the way an attacker with database access would."""

import hashlib
import json
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
import sqlalchemy
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy.engine import make_url

from dsr import ConfigError, audit, engine
from dsr.actors import SYSTEM, Actor
from dsr.extensions import db
from dsr.models import AuditEvent
from tests.factories import make_request
from tests.fixtures.databases import app_on

STAFF = Actor("user:1", frozenset({"staff"}))


def history() -> None:
    """Write a small, real history: two requests moved through a few states."""
    for kind in ("access", "correction"):
        case = make_request(kind)
        engine.fire(case, "verify", actor=Actor("subject", frozenset({"subject"})))
        db.session.commit()
    case = make_request("access", "verified")
    engine.fire(case, "start_collection", actor=STAFF)
    engine.fire(case, "finish_collection", actor=STAFF)
    db.session.commit()


def bypass_triggers(database_url: str, *statements: str) -> None:
    """Run SQL on the audit table past its triggers, as someone holding the database would."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(str(url.database))
        with connection:
            connection.execute("DROP TRIGGER audit_events_no_update")
            connection.execute("DROP TRIGGER audit_events_no_delete")
            for statement in statements:
                connection.execute(statement)
        connection.close()
        return
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database
    ) as connection:
        connection.execute("SET session_replication_role = replica")
        for statement in statements:
            connection.execute(statement)


def forged_row(seq: int, prev_hash: str) -> str:
    """An INSERT of a well-formed event that claims an approval nobody made."""
    event = AuditEvent(
        seq=seq, occurred_at=db.session.execute(
            sqlalchemy.select(AuditEvent.occurred_at).where(AuditEvent.seq == 2)
        ).scalar_one(), actor="user:1", action="request.transition", request_id=1,
        details={"trigger": "approve", "from_state": "in_review", "to_state": "approved",
                 "fields": []},
        prev_hash=prev_hash,
    )
    digest = audit.event_hash(event)
    stamp = event.occurred_at.strftime("%Y-%m-%d %H:%M:%S.%f")
    return (
        "INSERT INTO audit_events (seq, occurred_at, actor, action, request_id, details, "
        f"prev_hash, hash) VALUES ({seq}, '{stamp}', 'user:1', 'request.transition', 1, "
        f"'{json.dumps(event.details)}', '{prev_hash}', '{digest}')"
    )


def test_an_untouched_chain_verifies(app: Flask, runner: FlaskCliRunner) -> None:
    history()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    count = db.session.execute(sqlalchemy.select(sqlalchemy.func.count(AuditEvent.seq)))
    assert f"OK: {count.scalar_one()} event(s), chain intact." in result.output
    head = db.session.execute(
        sqlalchemy.select(AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).scalar_one()
    assert f"head {head}" in result.output


def test_an_empty_trail_verifies(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0
    assert "OK: 0 event(s)" in result.output


def _swap(a: int, b: int) -> list[str]:
    return [
        f"UPDATE audit_events SET seq = -1 WHERE seq = {a}",
        f"UPDATE audit_events SET seq = {a} WHERE seq = {b}",
        f"UPDATE audit_events SET seq = {b} WHERE seq = -1",
    ]


@pytest.mark.parametrize(
    ("tampering", "broken", "problem"),
    [
        ("changed", 3, "its hash does not match its contents under audit key 'test'"),
        ("deleted", 4, "expected event 3 here: events were deleted"),
        ("inserted", 3, "does not follow event 2"),
        ("reordered", 3, "does not follow event 2"),
    ],
)
def test_verify_names_the_first_broken_event(
    app: Flask, database_url: str, runner: FlaskCliRunner, tampering: str, broken: int,
    problem: str,
) -> None:
    history()
    statements = {
        "changed": ["UPDATE audit_events SET actor = 'user:99' WHERE seq = 3"],
        "deleted": ["DELETE FROM audit_events WHERE seq = 3"],
        "inserted": [
            "UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 3",
            "UPDATE audit_events SET seq = seq - 999 WHERE seq >= 1003",
            forged_row(3, hashlib.sha256(b"forged").hexdigest()),
        ],
        "reordered": _swap(3, 4),
    }[tampering]
    db.session.commit()
    db.engine.dispose()
    bypass_triggers(database_url, *statements)

    result = runner.invoke(args=["audit", "verify"])

    assert result.exit_code == 1
    assert f"BROKEN at event {broken}: {problem}" in result.output
    assert "Events 1 to 2 verify under the audit keys." in result.output


def test_a_walk_read_ahead_in_batches_stops_its_reader_at_the_first_break(
    app: Flask, database_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    monkeypatch.setattr(audit, "_BATCH", 2)  # many batches of a small history, one ahead
    monkeypatch.setattr(audit, "_AHEAD", 1)
    history()
    assert audit.verify().intact
    db.session.commit()
    db.engine.dispose()
    bypass_triggers(database_url, "UPDATE audit_events SET actor = 'user:99' WHERE seq = 3")

    report = audit.verify()

    assert (report.broken_seq, report.count) == (3, 2)
    assert not [t for t in threading.enumerate() if t.name == "dsr-audit-verify"]


def test_verify_catches_events_cut_from_the_end(
    app: Flask, database_url: str, runner: FlaskCliRunner
) -> None:
    history()
    last = db.session.execute(sqlalchemy.select(sqlalchemy.func.max(AuditEvent.seq))).scalar_one()
    db.session.commit()
    db.engine.dispose()
    bypass_triggers(database_url, f"DELETE FROM audit_events WHERE seq >= {last - 1}")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at event {last - 1}: the trail ends at event {last - 2}, but event " \
        f"{last} was written: events were deleted from the end" in result.output


def test_verify_expect_catches_a_rewritten_chain(app: Flask, runner: FlaskCliRunner) -> None:
    history()
    first = runner.invoke(args=["audit", "verify"])
    head = first.output.strip().splitlines()[-1].removeprefix("head ")
    assert runner.invoke(args=["audit", "verify", "--expect", head]).exit_code == 0
    forged = hashlib.sha256(b"a head that was never written").hexdigest()
    result = runner.invoke(args=["audit", "verify", "--expect", forged])
    assert result.exit_code == 1
    assert f"the chain no longer holds the expected head {forged}" in result.output


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_events SET actor = 'user:99'", "DELETE FROM audit_events WHERE seq = 1"],
)
def test_the_database_refuses_to_change_or_delete_events(app: Flask, statement: str) -> None:
    history()
    with pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"):
        db.session.execute(sqlalchemy.text(statement))
    db.session.rollback()
    assert audit.verify().intact


def test_the_orm_cannot_change_an_event_either(app: Flask) -> None:
    history()
    event = db.session.get(AuditEvent, 1)
    assert event is not None
    event.actor = "user:99"
    with pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"):
        db.session.commit()
    db.session.rollback()


def test_postgresql_refuses_truncate(postgres_app: Flask) -> None:
    history()
    with pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"):
        db.session.execute(sqlalchemy.text("TRUNCATE audit_events"))
    db.session.rollback()


@pytest.mark.parametrize(
    "details",
    [
        {"reason": "Unfounded"},
        {"email": "sam@example.com"},
        {"name": "Sam"},
        {"ip": "203.0.113.9"},
        {"phone": "+4915112345678"},
        {"iban": "DE89370400440532013000"},
        {"trigger": "She asked twice this week"},
        {"code": "sam@example.com"},
        {"count": 0.5},
        {"code": {"a": "b"}},
    ],
)
def test_details_refuse_free_text_and_personal_values(app: Flask, details: dict) -> None:
    with pytest.raises(ValueError, match="audit detail"):
        audit.record("test.event", actor=SYSTEM, **details)


def test_events_chain_from_genesis(app: Flask) -> None:
    first = audit.record("test.event", actor=SYSTEM, code="a")
    second = audit.record("test.event", actor=SYSTEM, code="b", count=2, flag=True)
    db.session.commit()
    assert (first.seq, first.prev_hash) == (1, audit.GENESIS)
    assert (second.seq, second.prev_hash) == (2, first.hash)
    db.session.expire_all()
    stored = db.session.get(AuditEvent, 2)
    assert stored is not None and stored.key_id == "test"
    assert audit.event_hash(stored, audit.keys.configured()["test"]) == second.hash
    assert audit.event_hash(stored) != second.hash, "keyed, not a plain SHA-256"


# An attacker who holds the database (and, for the last of these, the key too): triggers
# dropped, events changed, every later hash and the head recomputed, as issue 13 found.

def rows() -> list[SimpleNamespace]:
    db.session.expire_all()
    return [SimpleNamespace(**{c: getattr(e, c) for c in (
        "seq", "occurred_at", "actor", "action", "request_id", "details", "prev_hash", "hash",
        "key_id")}) for e in db.session.execute(
            sqlalchemy.select(AuditEvent).order_by(AuditEvent.seq)).scalars()]


def rewrite(events: list[SimpleNamespace], start: int, key: bytes | None,
            keyed_as: str | None) -> list[str]:
    """UPDATEs that rewrite `events` from number `start` on (the one the attacker changed):
    each hash recomputed (under `key`, or plain SHA-256 without one), and the head moved to
    the end; the events before stay as they were."""
    statements, prev = [], events[start - 2].hash if start > 1 else audit.GENESIS
    for event in events[start - 1:]:
        event.prev_hash, event.key_id = prev, keyed_as
        event.hash = audit.event_hash(event, key)
        statements.append(
            f"UPDATE audit_events SET actor = '{event.actor}', prev_hash = '{event.prev_hash}', "
            f"hash = '{event.hash}', key_id = {repr(keyed_as) if keyed_as else 'NULL'} "
            f"WHERE seq = {event.seq}")
        prev = event.hash
    # prev_hash and hash are unique: move the rewritten ones aside first.
    aside = ["UPDATE audit_events SET prev_hash = 'x' || seq, hash = 'y' || seq "
             f"WHERE seq >= {start}"]
    return [*aside, *statements,
            f"UPDATE audit_head SET seq = {events[-1].seq}, hash = '{prev}'"]


@pytest.fixture
def witnessed(app: Flask, tmp_path) -> Path:
    app.config["AUDIT_WITNESS_FILE"] = str(tmp_path / "elsewhere" / "heads.log")
    return tmp_path / "elsewhere" / "heads.log"


def test_a_rewrite_without_the_key_fails_at_the_first_changed_event(
        app: Flask, database_url: str, runner: FlaskCliRunner) -> None:
    history()
    events = rows()
    events[2].actor = "user:99"
    db.session.commit()
    db.engine.dispose()
    bypass_triggers(database_url, *rewrite(events, 3, None, "test"))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "BROKEN at event 3: its hash does not match its contents under audit key 'test'" \
        in result.output
    assert "Events 1 to 2 verify under the audit keys." in result.output
    assert "intact" not in result.output


def test_a_chain_rewritten_as_if_never_keyed_differs_from_the_witness(
        app: Flask, database_url: str, runner: FlaskCliRunner, witnessed: Path) -> None:
    history()
    first_head = int(witnessed.read_text().split()[0])
    events = rows()
    events[0].actor = "user:99"
    db.session.commit()
    db.engine.dispose()
    bypass_triggers(database_url, *rewrite(events, 1, None, None))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at event {first_head}: the chain differs from the head the witness " \
        "recorded at" in result.output
    assert f"one of events 1 to {first_head}" in result.output or first_head == 1
    assert "verify under the audit keys" not in result.output


def test_events_cut_from_the_end_with_the_head_moved_back_are_caught_by_the_witness(
        app: Flask, database_url: str, runner: FlaskCliRunner, witnessed: Path) -> None:
    history()
    events = rows()
    kept = events[-3]
    db.session.commit()
    db.engine.dispose()
    bypass_triggers(database_url, f"DELETE FROM audit_events WHERE seq > {kept.seq}",
                    f"UPDATE audit_head SET seq = {kept.seq}, hash = '{kept.hash}'")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"the witness recorded event {events[-1].seq}" in result.output
    assert f"the trail ends at event {kept.seq}: events were cut from the end" in result.output


def test_an_insider_with_the_key_is_caught_by_the_witness_at_the_changed_event(
        app: Flask, database_url: str, runner: FlaskCliRunner, witnessed: Path) -> None:
    for n in range(6):  # one commit, so one witnessed head, per event
        audit.record("test.event", actor=SYSTEM, count=n)
        db.session.commit()
    events = rows()
    events[3].actor = "user:99"
    db.session.commit()
    db.engine.dispose()
    bypass_triggers(database_url,
                    *rewrite(events, 4, audit.keys.configured()["test"], "test"))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "BROKEN at event 4: the chain differs from the head the witness recorded at" \
        in result.output
    assert "event 4 differs from it" in result.output
    assert "Events 1 to 3 are the ones the witness saw." in result.output


def test_the_key_rotates_and_old_events_verify_while_their_key_is_kept(
        app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    history()
    old = rows()[-1].seq
    key_file = tmp_path / "audit.key"
    key_file.write_text("# id secret, the last one signs\n"
                        "test an audit key for tests, 32 characters or more\n"
                        "2027 a newer audit key, also 32 characters or more\n")
    app.config.update(AUDIT_KEYS={}, AUDIT_KEY_FILE=str(key_file))
    audit.keys.load(app)
    history()
    assert {e.key_id for e in rows() if e.seq <= old} == {"test"}
    assert {e.key_id for e in rows() if e.seq > old} == {"2027"}
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0

    key_file.write_text("2027 a newer audit key, also 32 characters or more\n")
    audit.keys.load(app)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "BROKEN at event 1: it was hashed with audit key 'test', which is not configured" \
        in result.output


def test_keys_are_refused_when_short_and_required_outside_tests(
        app: Flask, tmp_path: Path) -> None:
    short = tmp_path / "short.key"
    short.write_text("k1 too-short\n")
    app.config.update(AUDIT_KEYS={}, AUDIT_KEY_FILE=str(short))
    with pytest.raises(ConfigError, match="Audit key 'k1' is shorter than 32 characters"):
        audit.keys.load(app)
    app.config.update(AUDIT_KEY_FILE=None, TESTING=False)
    try:
        with pytest.raises(ConfigError, match="No audit key: set AUDIT_KEY_FILE"):
            audit.keys.load(app)
    finally:
        app.config["TESTING"] = True
        app.config["AUDIT_KEYS"] = {"test": "an audit key for tests, 32 characters or more"}
        audit.keys.load(app)


def test_each_head_also_goes_to_a_syslog_server(sqlite_url: str) -> None:
    import socket

    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    port = receiver.getsockname()[1]
    for _ in app_on(sqlite_url, AUDIT_WITNESS_SYSLOG=f"udp://127.0.0.1:{port}"):
        event = audit.record("test.event", actor=SYSTEM, count=1)
        db.session.commit()
        message = receiver.recv(4096).decode()
        assert f"dsr audit head {event.seq} {event.hash}" in message
    receiver.close()


def test_an_event_whose_details_were_stored_otherwise_still_verifies(
        app: Flask, database_url: str, runner: FlaskCliRunner) -> None:
    """Events written before details were stored canonically are encoded the sure way."""
    history()
    db.session.commit()
    db.engine.dispose()
    stored = rows()[1]
    # The same details, spelt with spaces and line breaks, as SQLAlchemy's default wrote them.
    bypass_triggers(database_url, f"UPDATE audit_events SET details = '"
                                  f"{json.dumps(stored.details, indent=1)}' WHERE seq = 2")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "chain intact" in result.output


@pytest.mark.parametrize("appends", [1, 16])
def test_a_transactions_appends_cost_three_statements_however_many(
        app: Flask, runner: FlaskCliRunner, appends: int) -> None:
    """The head is locked and read once, the events go in one batch, the head is moved
    once: not four round trips per event."""
    statements: list[str] = []

    def count(*args, seen: list[str] = statements, **kwargs) -> None:
        seen.append(args[2])

    sqlalchemy.event.listen(db.engine, "before_cursor_execute", count)
    try:
        for n in range(appends):
            audit.record("test.event", actor=SYSTEM, count=n)
        db.session.commit()
    finally:
        sqlalchemy.event.remove(db.engine, "before_cursor_execute", count)
    audit_statements = [s for s in statements if "audit_" in s]
    assert len(audit_statements) == 3, audit_statements
    assert "chain intact" in runner.invoke(args=["audit", "verify"]).output


def test_events_of_a_session_closed_uncommitted_neither_chain_on_nor_reach_the_witness(
        app: Flask, runner: FlaskCliRunner, witnessed: Path) -> None:
    audit.record("test.event", actor=SYSTEM, count=1)
    db.session.commit()
    audit.record("test.event", actor=SYSTEM, count=2)  # never committed
    db.session.close()
    audit.record("test.event", actor=SYSTEM, count=3)
    db.session.commit()
    db.session.commit()  # a commit with no event of its own writes no head
    assert [line.split()[0] for line in witnessed.read_text().splitlines()] == ["1", "2"]
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "Events 1 to 2 are the ones the witness saw" \
        in result.output, result.output
