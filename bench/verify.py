"""How fast `flask audit verify` walks a long trail, against its floor: HMAC-SHA256 of the same
canonical bytes, computed in the same run with nothing else to do.

    .venv/bin/python bench/verify.py [--events 1000000] [--postgresql] [--runs 3]

The chain is written straight into an empty database (valid events, keyed as dsr keys them,
in batches) so that a million events take seconds to build, then verified through
audit.verify() as the command does. Exits 1 when verify takes more than 3 times the floor.
On PostgreSQL the bench starts its own server, as the tests do.
"""

import argparse
import hashlib
import hmac
import logging
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import flask_migrate
from sqlalchemy import insert, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dsr import audit, create_app
from dsr.extensions import db
from dsr.models import AuditEvent, AuditHead
from tests import servers

KEY_ID, KEY = "bench", "a benchmark's audit key, 32 characters or more"
BOUND = 3.0
BATCH = 10_000


def build(events: int) -> list[bytes]:
    """Write a valid keyed chain of `events`; return each event's canonical bytes."""
    key, prev, started = KEY.encode(), audit.GENESIS, datetime(2026, 1, 1, tzinfo=UTC)
    encoded, rows = [], []
    for seq in range(1, events + 1):
        event = SimpleNamespace(
            seq=seq, occurred_at=started + timedelta(milliseconds=seq), actor="user:1",
            action="request.transition", request_id=seq // 5 + 1, key_id=KEY_ID, prev_hash=prev,
            details={"trigger": "approve", "from_state": "in_review", "to_state": "approved",
                     "fields": []})
        data = audit.canonical(event)
        event.hash = hmac.new(key, data, hashlib.sha256).hexdigest()
        encoded.append(data)
        rows.append(vars(event))
        prev = event.hash
        if len(rows) == BATCH:
            db.session.execute(insert(AuditEvent), rows)
            rows = []
    if rows:
        db.session.execute(insert(AuditEvent), rows)
    db.session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=events, hash=prev))
    db.session.commit()
    return encoded


def floor(encoded: list[bytes]) -> float:
    """Seconds to HMAC every event's bytes and nothing else, the fastest way Python has (a
    prepared key, copied for each message)."""
    base = hmac.new(KEY.encode(), digestmod=hashlib.sha256)
    started = time.perf_counter()
    for data in encoded:
        mac = base.copy()
        mac.update(data)
        mac.hexdigest()
    return time.perf_counter() - started


def main() -> None:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="dsr-bench-")
    with servers.postgres() if args.postgresql else nullcontext(None) as server:
        if server:
            servers.admin_sql(server, "CREATE DATABASE verify")
        url = f"{server}/verify" if server else f"sqlite:///{folder}/verify.sqlite"
        app = create_app({"TESTING": True, "SECRET_KEY": "bench" * 8,
                          "SQLALCHEMY_DATABASE_URI": url, "AUDIT_KEYS": {KEY_ID: KEY},
                          "JOBS_URL": f"sqlite:///{folder}/jobs.sqlite"})
        with app.app_context():
            flask_migrate.upgrade()
            encoded = build(args.events)
            timings, floors = [], []
            for _ in range(args.runs):
                floors.append(floor(encoded))
                started = time.perf_counter()
                report = audit.verify()
                timings.append(time.perf_counter() - started)
                assert report.intact and report.count == args.events, report
            backend = db.engine.dialect.name
    took, least = statistics.median(timings), statistics.median(floors)
    ratio = took / least
    print(f"{backend}: audit verify over {args.events:,} events: median {took:.2f} s; "
          f"HMAC-SHA256 of the same bytes alone {least:.2f} s; {ratio:.1f} times "
          f"(bound {BOUND:.0f})")
    sys.exit(0 if ratio <= BOUND else 1)


if __name__ == "__main__":
    main()
