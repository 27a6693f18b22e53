"""Load dsr's public API in the production shape: gunicorn (2 web workers) on PostgreSQL, rate
limits and jobs on Redis and 2 job consumers, all on 127.0.0.1. Send
2,000 access requests, each for its own address, from 50 concurrent clients; then check that
none was lost or doubled, that each confirmation e-mail was queued once and delivered once
by the consumers to an SMTP server (aiosmtpd, on 127.0.0.1), and that the audit chain
verifies.

    .venv/bin/python bench/load.py [--requests 2000] [--clients 50] [--time-limit 180]

Prints requests/s and the p50 and p99 latencies; exits 1 when a check fails or the requests
were not all sent within the time limit.
"""

import argparse
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from aiosmtpd.controller import Controller

# The servers are started as the production-shape tests start them.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests import servers


@dataclass(frozen=True)
class Answer:
    """What one submission got: its HTTP status (None when the connection failed), how long
    it took, and the request id of a 202."""

    email: str
    status: int | None
    seconds: float
    reference: str | None


def submit_all(url: str, count: int, clients: int, seconds: float) -> tuple[list[Answer], float]:
    """POST `count` access requests from `clients` threads until done or `seconds` passed;
    return the answers and the wall time."""
    numbers = iter(range(count))
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client() -> list[Answer]:
        answers = []
        with requests.Session() as session:
            while time.monotonic() < deadline:
                with lock:
                    number = next(numbers, None)
                if number is None:
                    break
                email = f"load-{number:05d}@bench.example"
                started = time.perf_counter()
                try:
                    response = session.post(f"{url}/api/v1/requests", timeout=30, json={
                        "type": "access", "email": email, "name": f"Load Subject {number}"})
                    status = response.status_code
                    reference = response.json().get("id") if status == 202 else None
                except (requests.RequestException, ValueError):
                    status, reference = None, None
                answers.append(Answer(email, status, time.perf_counter() - started, reference))
        return answers

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(client) for _ in range(clients)]
        answers = [answer for future in futures for answer in future.result()]
    return answers, time.perf_counter() - started


class Mailbox:
    """An SMTP server's handler that counts the messages it received, by recipient."""

    def __init__(self) -> None:
        self.received: list[str] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.received.extend(envelope.rcpt_tos)
        return "250 Message accepted"


def delivered(mailbox: Mailbox, count: int, seconds: float) -> float:
    """Wait until `count` messages arrived (at most `seconds`); return how long it took."""
    started = time.monotonic()
    while len(mailbox.received) < count and time.monotonic() - started < seconds:
        time.sleep(0.1)
    return time.monotonic() - started


def checks(database_url: str, env: dict[str, str], answers: list[Answer], count: int,
           mailbox: Mailbox) -> dict[str, bool]:
    """What must hold after the load, each by name."""
    accepted = {a.reference for a in answers if a.status == 202}
    with servers.connect(database_url) as connection:
        stored = dict(connection.execute(b"SELECT reference, requester_email FROM requests"))
        doubled = connection.execute(
            b"SELECT requester_email FROM requests GROUP BY requester_email "
            b"HAVING count(*) > 1").fetchall()
        not_once = connection.execute(
            b"SELECT r.id FROM requests r LEFT JOIN outbox_messages o ON o.request_id = r.id "
            b"AND o.kind = 'verification' GROUP BY r.id HAVING count(o.id) <> 1").fetchall()
    audit = servers.flask(env, "audit", "verify")
    return {
        f"all {count} sent in time": len(answers) == count,
        "every answer 202": all(a.status == 202 for a in answers),
        "0 lost (every 202 has its request)": accepted <= stored.keys(),
        "0 duplicated (one request per address)": not doubled and len(stored) == len(accepted),
        "every confirmation e-mail queued once": not not_once,
        "every confirmation e-mail delivered once": sorted(mailbox.received) == sorted(
            a.email for a in answers if a.status == 202),
        "flask audit verify": audit.returncode == 0 and "chain intact" in audit.stdout,
    }


def percentile(values: list[float], share: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[share - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn web workers")
    parser.add_argument("--consumers", type=int, default=2, help="job consumers")
    parser.add_argument("--time-limit", type=float, default=180,
                        help="seconds to send the requests in")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="dsr-load-"))
    redis = servers.Redis(root)
    instance = root / "instance"
    env = servers.environment(instance)
    web = servers.Gunicorn(root / "gunicorn.log", env, workers=args.workers)
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=servers.free_port())
    with servers.postgres() as server:
        servers.admin_sql(server, "CREATE DATABASE load")
        database_url = f"{server}/load"
        servers.write_instance(instance, {
            "SECRET_KEY": secrets.token_hex(32),
            "AUDIT_KEYS": {"load": secrets.token_hex(32)},
            "AUDIT_WITNESS_FILE": str(root / "witness" / "heads.log"),
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_STORAGE_URI": redis.url(0),
            "JOBS_URL": redis.url(1),
            "PUBLIC_URL": web.url,
            # Every client here is 127.0.0.1: the limit per client would refuse the load.
            "REQUEST_RATE_LIMIT": f"{10 * args.requests} per hour",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp.port,
        })
        consumers = servers.Consumers(root, env, args.consumers)
        try:
            upgrade = servers.flask(env, "db", "upgrade")
            if upgrade.returncode != 0:
                raise RuntimeError(f"flask db upgrade failed:\n{upgrade.stderr[-3000:]}")
            smtp.start()
            redis.start()
            web.start()
            consumers.start()
            answers, wall = submit_all(web.url, args.requests, args.clients, args.time_limit)
            accepted = sum(a.status == 202 for a in answers)
            mailed = wall + delivered(mailbox, accepted, args.time_limit)
            time.sleep(1)  # a message delivered twice would arrive by now
            results = checks(database_url, env, answers, args.requests, mailbox)
        finally:
            consumers.stop()
            web.stop()
            redis.stop()
            smtp.stop()

    latencies = [a.seconds * 1000 for a in answers]
    print(f"{len(answers)} submissions from {args.clients} clients to gunicorn "
          f"({args.workers} workers) on PostgreSQL, Redis for limits and jobs, "
          f"{args.consumers} job consumers")
    if latencies:
        print(f"{len(answers) / wall:.0f} requests/s over {wall:.1f} s; latency p50 "
              f"{statistics.median(latencies):.0f} ms, p99 {percentile(latencies, 99):.0f} ms, "
              f"max {max(latencies):.0f} ms")
        print(f"every confirmation e-mail delivered {mailed:.1f} s after the first submission "
              f"({len(mailbox.received) / mailed:.0f} messages/s through the consumers)")
    for name, ok in results.items():
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    passed = all(results.values())
    if passed:
        shutil.rmtree(root, ignore_errors=True)
    else:
        print(f"logs kept in {root}", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
