"""Memory of the embedded system, as `make run` starts it: the web process (`flask run`) and
one job consumer forked from it (`flask serve`) on SQLite, measured as PSS, before and after a heavy
subject: a customer with 20,000 orders of their own in a shop database (SQLite, read by the
sql adapter), collected by the consumer, previewed by staff and downloaded by the subject
(the answer page, JSON, CSV and PDF) over HTTP; then a second heavy subject.

    .venv/bin/python bench/memory.py [--rows 20000]

Exits 1 above 150 MB PSS after the heavy subjects, or when the second raised the steady
state by more than 8 MiB over the first (memory kept per request would show there).
"""

import argparse
import os
import re
import secrets
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dsr import create_app, engine
from dsr.actors import SUBJECT, Actor
from dsr.demo.sources import DSR_REGISTER
from dsr.extensions import db
from dsr.models import OutboxMessage, Request
from tests import servers
from tests.fixtures.people import PASSWORD

sys.path.insert(0, str(Path(__file__).resolve().parent))
from heavy import HEAVY, MAPPING, REGISTER  # the same shop as the heavy-subject bench

STAFF_EMAIL = "staff@bench.example"
PSS_BOUND_MB, STEADY_BOUND_MIB = 150.0, 8.0


def build_shop(path: Path, rows: int) -> None:
    """The shop: 100 customers with 10 orders each, and the heavy one with `rows`."""
    started = datetime(2020, 1, 1, tzinfo=UTC)
    with sqlite3.connect(path) as connection:
        connection.executescript("""
            CREATE TABLE customers (id integer PRIMARY KEY, email text, name text, phone text);
            CREATE TABLE orders (id integer PRIMARY KEY, customer_id integer, item text,
                                 total text, status text, placed_at text);
            CREATE INDEX customers_email ON customers (email);
            CREATE INDEX orders_customer ON orders (customer_id);
        """)
        connection.executemany("INSERT INTO customers VALUES (?, ?, ?, ?)", [
            (1, HEAVY, "Hana Heavy", "+49 30 1234567"),
            *((n, f"customer{n}@shop.example", f"Customer {n}", f"+49 30 {n:07d}")
              for n in range(2, 101))])
        order = iter(range(1, 10**9))
        connection.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)", (
            (number := next(order), customer, f"Order {number}: hosting plan {k % 7}",
             f"{(number % 90) + 9}.90", "paid", (started + timedelta(minutes=37 * k)).isoformat())
            for customer, count in [(1, rows), *((n, 10) for n in range(2, 101))]
            for k in range(count)))


def pss_mib(pid: int) -> float:
    """The proportional set size of one process, in MiB."""
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text(encoding="ascii")
    found = re.search(r"^Pss:\s+(\d+) kB", rollup, re.MULTILINE)
    assert found, rollup
    return int(found.group(1)) / 1024


class Browser:
    """A requests.Session that sends forms with the CSRF token of the page they are on."""

    def __init__(self, base: str) -> None:
        self.base, self.http = base, requests.Session()

    def get(self, path: str) -> requests.Response:
        response = self.http.get(self.base + path, timeout=120, allow_redirects=False)
        assert response.status_code == 200, (path, response.status_code)
        return response

    def post(self, path: str, data: dict[str, str]) -> requests.Response:
        page = self.get(path).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert token, f"no form on {path}"
        return self.http.post(self.base + path, data={**data, "csrf_token": token.group(1)},
                              timeout=120, allow_redirects=False)


def heavy_subject(app: Any, base: str, staff: Browser) -> int:
    """One heavy access request from collection to the subject's downloads; its findings."""
    with app.app_context():
        case = engine.open_request("access", actor=SUBJECT, requester_email=HEAVY,
                                   requester_name="Hana Heavy")
        engine.fire(case, "verify", actor=SUBJECT)
        db.session.commit()
        reference = case.reference
    page = staff.get(f"/console/requests/{reference}").text
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version, "no action form"
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token
    started = staff.http.post(f"{base}/console/requests/{reference}/transitions", data={
        "trigger": "start_collection", "version": version.group(1), "csrf_token": token.group(1),
    }, timeout=60, allow_redirects=False)
    assert started.status_code == 302, started.status_code
    deadline = time.monotonic() + 300
    with app.app_context():
        while (state := db.session.execute(db.select(Request.state).where(
                Request.reference == reference)).scalar_one()) != "in_review":
            assert time.monotonic() < deadline, f"still {state}"
            db.session.rollback()
            time.sleep(0.2)
    staff.get(f"/console/requests/{reference}/preview")
    actor = Actor("user:1", frozenset({"staff"}))
    with app.app_context():
        case = db.session.execute(db.select(Request).where(
            Request.reference == reference)).scalar_one()
        engine.fire(case, "approve", actor=actor)
        db.session.commit()
        engine.fire(case, "release", actor=actor)
        db.session.commit()
        found = int(case.answer["summary"]["findings"]) if case.answer else 0
        body = db.session.execute(db.select(OutboxMessage.body).where(
            OutboxMessage.request_id == case.id, OutboxMessage.kind == "ready")).scalar_one()
    link = re.search(re.escape(base) + r"(/\S+)", body)
    assert link, "no sign-in link in the ready e-mail"
    subject = Browser(base)
    assert subject.post(link.group(1), {}).status_code == 302, "the link does not sign in"
    for suffix in ("report", "report.json", "report.csv", "report.pdf"):
        size = len(subject.get(f"/my/requests/{reference}/{suffix}").content)
        assert size > 1000, (suffix, size)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="dsr-memory-"))
    build_shop(root / "shop.sqlite", args.rows)
    (root / "shop.yaml").write_text(MAPPING, encoding="utf-8")
    instance = root / "instance"
    port = servers.free_port()
    base = f"http://127.0.0.1:{port}"
    settings: dict[str, Any] = {
        "SECRET_KEY": secrets.token_hex(32),
        "AUDIT_KEYS": {"bench": secrets.token_hex(32)},
        "AUDIT_WITNESS_FILE": str(root / "witness" / "heads.log"),
        "PUBLIC_URL": base,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "DSR_REGISTER": DSR_REGISTER,
        "SOURCES": {"shop": {"title": "Shop", "adapter": "sql", "register": REGISTER,
                             "settings": {"url": f"sqlite:///{root / 'shop.sqlite'}",
                                          "mapping_file": str(root / "shop.yaml")}}},
    }
    servers.write_instance(instance, settings)
    env = servers.environment(instance)
    web = servers.Process("web", [servers.BIN / "flask", "serve", "--port", str(port)],
                          root / "web.log", env)
    for command in (("db", "upgrade"),
                    ("users", "create", STAFF_EMAIL, "--role", "staff", "--password", PASSWORD)):
        done = servers.flask(env, *command)
        if done.returncode != 0:
            raise RuntimeError(f"flask {' '.join(command[:2])}:\n{done.stderr[-3000:]}")
    # The bench's own app, for what staff and the subject do outside the pages, reads the
    # same instance folder.
    os.environ["DSR_INSTANCE_PATH"] = str(instance)
    app = create_app()
    failed = False
    try:
        web.start()
        web.wait_listening(port)
        (consumer,) = servers.children(web.pid)
        staff = Browser(base)
        response = staff.post("/staff/sign-in", {"email": STAFF_EMAIL, "password": PASSWORD})
        assert response.status_code == 302, f"staff sign-in: {response.status_code}"
        for _ in range(20):  # the pages of an ordinary day, so each process has warmed up
            staff.get("/console/")
            Browser(base).get("/requests/new")
        time.sleep(1)
        steady = {"web": pss_mib(web.pid), "consumer": pss_mib(consumer)}
        found = heavy_subject(app, base, staff)
        time.sleep(1)
        first = {"web": pss_mib(web.pid), "consumer": pss_mib(consumer)}
        heavy_subject(app, base, staff)
        time.sleep(1)
        second = {"web": pss_mib(web.pid), "consumer": pss_mib(consumer)}
    finally:
        web.stop()
    for name, figures in (("ordinary day", steady), (f"heavy subject ({found:,} findings)",
                                                     first), ("a second heavy subject", second)):
        total = sum(figures.values())
        print(f"{name:>34}: web {figures['web']:.1f} MiB + consumer {figures['consumer']:.1f} "
              f"MiB = {total:.1f} MiB PSS ({total * 1.048576:.0f} MB)")
    total_mb = sum(second.values()) * 1.048576
    raised = sum(second.values()) - sum(first.values())
    print(f"after the heavy subjects {total_mb:.0f} MB PSS (bound {PSS_BOUND_MB:.0f}); the second "
          f"raised it by {raised:.1f} MiB (bound {STEADY_BOUND_MIB:.0f})")
    failed = total_mb > PSS_BOUND_MB or raised > STEADY_BOUND_MIB
    if failed:
        print(f"logs kept in {root}", file=sys.stderr)
        sys.exit(1)
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
