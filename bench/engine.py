"""Time the engine and the audit trail: transitions per second (each its own transaction, as a
web request would be) and the speed of `flask audit verify` over a long chain.

    .venv/bin/python bench/engine.py [--database-url URL] [--requests 500] [--events 100000]

Without --database-url it builds a throw-away SQLite file. Prints the median of several runs.
"""

import argparse
import logging
import statistics
import tempfile
import time

import flask_migrate

from dsr import audit, create_app, engine
from dsr.actors import SUBJECT, SYSTEM, Actor
from dsr.extensions import db

STAFF = Actor("user:1", frozenset({"staff"}))
PATH = [("verify", SUBJECT), ("start_collection", STAFF), ("finish_collection", STAFF),
        ("approve", STAFF)]


def lifecycle(requests: int) -> float:
    """Open `requests` access requests and move each through four transitions; return seconds."""
    started = time.perf_counter()
    for _ in range(requests):
        case = engine.open_request("access", actor=SUBJECT, requester_email="bench@example.com")
        db.session.commit()
        for trigger, actor in PATH:
            engine.fire(case, trigger, actor=actor)
            db.session.commit()
    return time.perf_counter() - started


def grow_chain(events: int) -> None:
    """Append plain events until the trail holds at least `events`."""
    while db.session.execute(db.select(db.func.count()).select_from(audit.AuditEvent)
                             ).scalar_one() < events:
        for _ in range(1000):
            audit.record("bench.event", actor=SYSTEM, count=1)
        db.session.commit()


def main() -> None:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="dsr-bench-")
    url = args.database_url or f"sqlite:///{folder}/bench.sqlite"
    app = create_app({
        "TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
    })
    with app.app_context():
        flask_migrate.upgrade()
        backend = db.engine.dialect.name
        per_transition = []
        for _ in range(args.runs):
            seconds = lifecycle(args.requests)
            per_transition.append(seconds / (args.requests * (len(PATH) + 1)))
        median = statistics.median(per_transition)
        print(f"{backend}: open + 4 transitions x {args.requests} requests, {args.runs} runs: "
              f"median {median * 1000:.2f} ms per committed step ({1 / median:.0f}/s)")

        grow_chain(args.events)
        timings = []
        for _ in range(args.runs):
            started = time.perf_counter()
            report = audit.verify()
            timings.append(time.perf_counter() - started)
            assert report.intact
        median = statistics.median(timings)
        print(f"{backend}: audit verify over {report.count} events, {args.runs} runs: "
              f"median {median:.2f} s ({report.count / median:.0f} events/s)")


if __name__ == "__main__":
    main()
