"""The audit trail: append-only in the database, hash-chained, and verified by `flask audit
verify`, which must catch tampering done the way an attacker with database access would."""

import hashlib
import json
import sqlite3

import psycopg
import pytest
import sqlalchemy
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy.engine import make_url

from dsr import audit, engine
from dsr.actors import SYSTEM, Actor
from dsr.extensions import db
from dsr.models import AuditEvent
from tests.factories import make_request

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
        ("changed", 3, "its contents were changed"),
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
    assert "2 event(s) before it are intact" in result.output


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
    assert stored is not None and audit.event_hash(stored) == second.hash
