"""The staff queue page in the production shape with 100,000 requests in the database:
gunicorn (2 sync workers) on PostgreSQL, rate limits on Redis, a signed-in staff member's
clients fetching /console/ for a while; then a bare Flask route (bench/bare.py) on the same
gunicorn settings, by the same clients, in the same run: the floor.

    .venv/bin/python bench/queue_page.py [--requests 100000] [--clients 4] [--seconds 20]

Also counts the statements one queue page sends at page sizes 10, 50 and 200 (in-process,
on the same database). Prints requests/s and p50/p99 latency of both; exits 1 below half the
bare route's requests/s, above 100 ms p99, or when the statements grow with the page size.
"""

import argparse
import http.client
import multiprocessing
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dsr import create_app, engine
from dsr.extensions import db
from dsr.models.requests import new_reference
from tests import servers
from tests.fixtures.people import PASSWORD, sign_in

STAFF = "staff@bench.example"
TYPES = ("access", "correction", "disclosure")
RATIO_BOUND, P99_BOUND_MS = 0.5, 100.0
AGENT = "dsr-bench"


def fill(database_url: str, count: int) -> None:
    """`count` requests of every type and state, received over the last two years (COPY)."""
    now = datetime.now(UTC)
    states = {kind: list(engine.workflow_for(kind)["states"]) for kind in TYPES}
    chooser = random.Random(14)
    with servers.connect(database_url) as connection, connection.cursor().copy(
            "COPY requests (reference, type, state, version, received_at, due_at, updated_at,"
            " requester_email, requester_name) FROM STDIN") as copy:
        for number in range(count):
            kind = TYPES[number % 3]
            received = now - timedelta(minutes=chooser.randrange(2 * 365 * 24 * 60))
            copy.write_row((new_reference(), kind, chooser.choice(states[kind]), 1, received,
                            received + timedelta(days=30), received,
                            f"subject{number}@bench.example", f"Subject {number}"))
    with servers.connect(database_url) as connection:
        connection.execute("ANALYZE")


def statements_per_page(settings: dict[str, Any], sizes: tuple[int, ...]) -> dict[int, int]:
    """How many statements one queue page sends at each page size (in-process)."""
    app = create_app({**settings, "TESTING": True})
    counted: dict[int, int] = {}
    with app.app_context():
        client = app.test_client()
        assert sign_in(client, STAFF).status_code == 302, "the staff member cannot sign in"
        for size in sizes:
            app.config["PAGE_SIZE"] = size
            sent: list[str] = []

            def count(*args: Any, seen: list[str] = sent, **kwargs: Any) -> None:
                seen.append(args[2])

            event.listen(db.engine, "before_cursor_execute", count)
            try:
                response = client.get("/console/")
            finally:
                event.remove(db.engine, "before_cursor_execute", count)
            assert response.status_code == 200, response.status_code
            assert response.get_data(as_text=True).count("<tr") >= size
            counted[size] = len(sent)
    return counted


def _client(port: int, path: str, cookie: str, seconds: float, start: float) -> list[float]:
    """Fetch `path` again and again until `seconds` have passed; the latencies in ms."""
    while time.time() < start:
        time.sleep(0.001)
    latencies = []
    deadline = time.perf_counter() + seconds
    # Flask-Login's strong session protection binds the session to the user agent.
    headers = {"Cookie": cookie, "User-Agent": AGENT} if cookie else {}
    while time.perf_counter() < deadline:
        began = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        connection.close()
        assert response.status == 200 and body, (path, response.status)
        latencies.append((time.perf_counter() - began) * 1000)
    return latencies


def hammer(url: str, path: str, cookie: str, clients: int, seconds: float
           ) -> tuple[float, float, float]:
    """Requests/s, p50 and p99 ms of `clients` processes fetching `path` for `seconds`."""
    port = int(url.rsplit(":", 1)[1])
    start = time.time() + 0.5
    with multiprocessing.Pool(clients) as pool:
        results = pool.starmap(_client, [(port, path, cookie, seconds, start)] * clients)
    latencies = [ms for result in results for ms in result]
    p99 = statistics.quantiles(latencies, n=100, method="inclusive")[98]
    return len(latencies) / seconds, statistics.median(latencies), p99


def session_cookie(url: str) -> str:
    """The Cookie header of a staff member signed in over HTTP."""
    with requests.Session() as http:
        http.headers["User-Agent"] = AGENT
        page = http.get(f"{url}/staff/sign-in", timeout=30).text
        token = page.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
        response = http.post(f"{url}/staff/sign-in", allow_redirects=False, timeout=30,
                             data={"email": STAFF, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302, f"sign-in: {response.status_code}"
        assert http.get(f"{url}/console/", timeout=30).status_code == 200
        return "; ".join(f"{name}={value}" for name, value in http.cookies.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--seconds", type=float, default=20, help="of load on each server")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn web workers")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="dsr-queue-"))
    redis = servers.Redis(root)
    instance = root / "instance"
    env = servers.environment(instance)
    web = servers.Gunicorn(root / "gunicorn.log", env, workers=args.workers)
    bare = servers.Gunicorn(root / "bare.log", env, workers=args.workers, app="bench.bare:app")
    failed = False
    with servers.postgres() as server:
        servers.admin_sql(server, "CREATE DATABASE queue")
        database_url = f"{server}/queue"
        settings: dict[str, Any] = {
            "SECRET_KEY": secrets.token_hex(32),
            "AUDIT_KEYS": {"bench": secrets.token_hex(32)},
            "AUDIT_WITNESS_FILE": str(root / "witness" / "heads.log"),
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_STORAGE_URI": redis.url(0),
            "JOBS_URL": redis.url(1),
            "PUBLIC_URL": web.url,
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
        }
        servers.write_instance(instance, settings)
        try:
            redis.start()
            for command in (("db", "upgrade"),
                            ("users", "create", STAFF, "--role", "staff", "--password", PASSWORD)):
                done = servers.flask(env, *command)
                if done.returncode != 0:
                    raise RuntimeError(f"flask {' '.join(command[:2])}:\n{done.stderr[-3000:]}")
            started = time.perf_counter()
            fill(database_url, args.requests)
            print(f"{args.requests:,} requests stored in {time.perf_counter() - started:.1f} s")
            counted = statements_per_page(settings, (10, 50, 200))
            print("statements per queue page: " + ", ".join(
                f"{n} at {size} rows" for size, n in counted.items()))
            if len(set(counted.values())) != 1:
                print("the statements grow with the page size")
                failed = True
            web.start()
            cookie = session_cookie(web.url)
            hammer(web.url, "/console/", cookie, args.clients, 2)  # warm both workers
            queue = hammer(web.url, "/console/", cookie, args.clients, args.seconds)
            web.stop()
            bare.start()
            hammer(bare.url, "/", "", args.clients, 2)
            floor = hammer(bare.url, "/", "", args.clients, args.seconds)
        finally:
            bare.stop()
            web.stop()
            redis.stop()
    for name, (rate, p50, p99) in (("queue page", queue), ("bare Flask route", floor)):
        print(f"{name:>16}: {rate:,.0f} requests/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms "
              f"({args.clients} clients, {args.workers} gunicorn workers, {args.seconds:.0f} s)")
    ratio = queue[0] / floor[0]
    print(f"the queue page serves {ratio:.2f} times the bare route's requests/s "
          f"(bound {RATIO_BOUND}); p99 {queue[2]:.0f} ms (bound {P99_BOUND_MS:.0f})")
    failed = failed or ratio < RATIO_BOUND or queue[2] > P99_BOUND_MS
    if failed:
        print(f"logs kept in {root}", file=sys.stderr)
        sys.exit(1)
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
