"""Whether the public forms' timing tells a known address from an unknown one: interleaved
pairs of POSTs to /my/sign-in and /requests/new, one with an address that has a confirmed
request and one with an address dsr never saw, in alternating order.

    .venv/bin/python bench/timing.py [--pairs 200] [--database-url URL]

Prints each form's median and quartiles per kind of address; exits 1 unless, for each form,
the medians are within 5 % of each other and the quartile ranges overlap.
"""

import argparse
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import flask_migrate
from flask.testing import FlaskClient

from dsr import create_app
from dsr.database import utcnow
from dsr.extensions import db
from dsr.models import Request

WARM_UP = 20


def quartiles(times: list[float]) -> tuple[float, float, float]:
    q1, median, q3 = statistics.quantiles(times, n=4)
    return q1, median, q3


def pairs(count: int, known: Callable[[int], object], unknown: Callable[[int], object]
          ) -> tuple[list[float], list[float]]:
    """Time `count` interleaved pairs, the known one first in every other pair."""
    timed: dict[str, list[float]] = {"known": [], "unknown": []}
    for n in range(WARM_UP + count):
        order = [("known", known), ("unknown", unknown)]
        for name, post in order if n % 2 else reversed(order):
            started = time.perf_counter()
            post(n)
            if n >= WARM_UP:
                timed[name].append(time.perf_counter() - started)
    return timed["known"], timed["unknown"]


def verdict(form: str, known: list[float], unknown: list[float]) -> bool:
    (k1, km, k3), (u1, um, u3) = quartiles(known), quartiles(unknown)
    apart = abs(km - um) / um
    overlap = k1 <= u3 and u1 <= k3
    print(f"{form}: known median {km * 1000:.2f} ms (quartiles {k1 * 1000:.2f}-{k3 * 1000:.2f}), "
          f"unknown median {um * 1000:.2f} ms ({u1 * 1000:.2f}-{u3 * 1000:.2f}); "
          f"medians {apart:.1%} apart, quartiles {'overlap' if overlap else 'DO NOT overlap'}")
    return apart <= 0.05 and overlap


def posting(client: FlaskClient, url: str, **fields: str) -> Callable[[str], None]:
    def post(email: str) -> None:
        response = client.post(url, data={**fields, "email": email})
        assert response.status_code in (200, 302), (url, response.status_code)
    return post


def main() -> None:
    for name in ("werkzeug", "alembic", "dsr"):
        logging.getLogger(name).setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="dsr-bench-"))
    app = create_app({
        "TESTING": True, "SECRET_KEY": "bench" * 8, "WTF_CSRF_ENABLED": False,
        "AUDIT_KEYS": {"bench": "a benchmark's audit key, 32 characters"},
        "SQLALCHEMY_DATABASE_URI": args.database_url or f"sqlite:///{root / 'dsr.sqlite'}",
        "JOBS_URL": f"sqlite:///{root / 'jobs.sqlite'}", "RATELIMIT_ENABLED": False,
        # E-mail is handed to the queue after each commit, as in production; no consumer
        # sends it here.
        "MAIL_SERVER": "127.0.0.1", "OUTBOX_DELIVER_AFTER_COMMIT": True})
    with app.app_context():
        flask_migrate.upgrade()
        known = [f"known{n}@example.com" for n in range(WARM_UP + args.pairs)]
        for email in known:
            db.session.add(Request(type="access", state="verified", version=1,
                                   due_at=utcnow(), verified_at=utcnow(),
                                   requester_email=email))
        db.session.commit()
        client = app.test_client()
        ok = True
        for form, url, fields in (
                ("sign-in", "/my/sign-in", {}),
                ("request", "/requests/new", {"type": "access", "name": "Rosa Rivera"})):
            post = posting(client, url, **fields)
            ok &= verdict(form, *pairs(
                args.pairs, lambda n, post=post: post(known[n]),
                lambda n, post=post, form=form: post(f"unknown{n}.{form}@example.org")))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
