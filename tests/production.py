"""Fixtures of the production shape: dsr served by gunicorn (2 web workers) on PostgreSQL, its
rate limits and jobs on Redis, the job consumers where dsr has them, and the demo company's
WHMCS, Matomo and Kayako stand-ins as its sources; and people who use it over real HTTP.
Everything is started once per module that asks for `production`, and stopped after it; the
servers' logs are shown with any test of it that fails."""

import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
import requests
from flask import Flask

from dsr import create_app
from dsr.demo import company
from dsr.demo.standins import Running, serve
from dsr.demo.standins.kayako import create_kayako
from dsr.demo.standins.matomo import create_matomo
from dsr.demo.standins.whmcs import create_whmcs
from dsr.extensions import db
from tests import servers
from tests.fixtures.company import (
    DEMO_REGISTER,
    KAYAKO_KEY,
    KAYAKO_SECRET,
    MATOMO_TOKEN,
    WHMCS_ID,
    WHMCS_SECRET,
    company_sources,
)
from tests.fixtures.databases import config_for, postgres_database
from tests.fixtures.people import PASSWORD

# Polls of pages that change in the background give up after this many seconds.
WAIT = 30
HTTP_TIMEOUT = 30


def settings_for(database_url: str, redis: servers.Redis, public_url: str,
                 sources: dict[str, Any], root: Path) -> dict[str, object]:
    """The instance config of the production shape under test: its audit key in a file of
    its own, and its witness in a folder apart from the database."""
    key_file = root / "keys" / "audit.key"
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(f"prod {secrets.token_hex(32)}\n", encoding="ascii")
    return {
        "SECRET_KEY": secrets.token_hex(32),
        # Legal signs in over HTTP here; two-step sign-in has its own tests.
        "MFA_REQUIRED_ROLES": [],
        "AUDIT_KEY_FILE": str(key_file),
        "AUDIT_WITNESS_FILE": str(root / "witness" / "heads.log"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_STORAGE_URI": redis.url(0),
        "JOBS_URL": redis.url(1),
        "PUBLIC_URL": public_url,
        "SOURCES": sources,
        "DSR_REGISTER": DEMO_REGISTER,
        "SOURCE_TIMEOUT": 3,
        # A claim older than this is a dead consumer's: short, so the fault tests wait little.
        "JOB_LEASE_SECONDS": 5,
        "JOB_HANDOVER_GRACE_SECONDS": 1,
        # One client address (127.0.0.1) sends every test's requests; the limit per e-mail
        # address stays as shipped.
        "REQUEST_RATE_LIMIT": "1000 per hour",
        "SIGN_IN_RATE_LIMIT": "1000 per minute",
        # Plain HTTP on 127.0.0.1: the proxy in front speaks HTTPS in production.
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        # Cheap hashing, as in every other test.
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 8,
        "ARGON2_PARALLELISM": 1,
        "HOLIDAY_COUNTRY": "DE",
        "ADAPTER_ENTRY_POINTS": False,
    }


class Visitor:
    """Someone at a browser without JavaScript: a requests.Session with its cookies, reading
    CSRF tokens from the pages it sends forms from."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base}{path}"

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.url(path), timeout=HTTP_TIMEOUT, allow_redirects=False)

    def page(self, path: str) -> str:
        """The page at `path`, which must answer 200."""
        response = self.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response.text

    def token(self, path: str) -> str:
        """The CSRF token of the form on the page at `path`."""
        tag = re.search(r'<input[^>]*name="csrf_token"[^>]*>', self.page(path))
        assert tag, f"no CSRF token on {path}"
        value = re.search(r'value="([^"]+)"', tag.group(0))
        assert value
        return value.group(1)

    def post(self, path: str, data: dict[str, Any], *, form: str | None = None,
             files: dict[str, Any] | None = None) -> requests.Response:
        """Send a form from the page `form` (default: `path` itself) to `path`."""
        data = {**data, "csrf_token": self.token(form or path)}
        return self.http.post(self.url(path), data=data, files=files, timeout=HTTP_TIMEOUT,
                              allow_redirects=False)

    def press(self, path: str) -> requests.Response:
        """Press the only button of the page at `path` (links in e-mail show one)."""
        return self.post(path, {})

    def sign_in(self, email: str) -> "Visitor":
        response = self.post("/staff/sign-in", {"email": email, "password": PASSWORD})
        assert response.status_code == 302, f"sign-in as {email}: {response.status_code}"
        return self

    def act(self, page: str, trigger: str, **fields: Any) -> requests.Response:
        """Fire `trigger` from a request's page (console or register), with the version the
        page was read with."""
        version = re.search(r'name="version" value="(\d+)"', self.page(page))
        assert version, f"no action form on {page}"
        return self.post(f"{page}/transitions",
                         {"trigger": trigger, "version": version.group(1), **fields}, form=page)

    def wait_for(self, page: str, pattern: str, seconds: float = WAIT) -> str:
        """Reload `page` until it shows `pattern` (a regular expression); return it."""
        deadline = time.monotonic() + seconds
        while True:
            text = self.page(page)
            if re.search(pattern, text):
                return text
            assert time.monotonic() < deadline, f"{page} does not show {pattern!r}"
            time.sleep(0.2)

    def wait_for_state(self, page: str, state: str, seconds: float = WAIT) -> str:
        """Reload a request's page until its state is `state`."""
        return self.wait_for(page, rf'<dt>State</dt><dd><span class="state state-{state}">',
                             seconds)


@dataclass
class Production:
    """The servers of the production shape, where they listen, and how to look inside."""

    url: str
    instance: Path
    env: dict[str, str]
    database_url: str
    redis: servers.Redis
    web: servers.Gunicorn
    consumers: servers.Consumers
    company: Path
    people: list[company.Customer]
    standins: dict[str, Running]
    app: Flask = field(repr=False)

    def visitor(self) -> Visitor:
        return Visitor(self.url)

    def signed_in(self, email: str) -> Visitor:
        return self.visitor().sign_in(email)

    def connect(self) -> psycopg.Connection[Any]:
        """A connection of our own to dsr's database."""
        return servers.connect(self.database_url)

    def sql(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows of a query, read in a transaction of its own (what is committed now)."""
        with self.connect() as connection:
            return connection.execute(statement.encode(), params).fetchall()

    def rate_limit_counters(self) -> int:
        """How many rate-limit counters Redis holds."""
        with redis.Redis.from_url(self.redis.url(0), socket_timeout=2) as client:
            return int(client.dbsize())

    def mails(self, kind: str, to: str) -> list[str]:
        """The bodies of the messages of `kind` queued for `to`, oldest first."""
        return [body for (body,) in self.sql(
            "SELECT body FROM outbox_messages WHERE kind = %s AND to_address = %s ORDER BY id",
            kind, to)]

    def link(self, body: str) -> str:
        """The link in a message, on this server's address."""
        found = re.search(rf"{re.escape(self.url)}/\S+", body)
        assert found, "no link to this server in the message"
        return found.group(0)

    def confirmed(self, subject: Visitor, path: str, customer: company.Customer,
                  **fields: str) -> str:
        """Send the public form at `path` for `customer`, press the link in the confirmation
        e-mail; return the request's reference."""
        sent = subject.post(path, {"email": customer.email,
                                   "name": f"{customer.first} {customer.last}", **fields})
        assert sent.status_code == 302 and sent.headers["Location"].endswith("/requests/sent")
        [verification] = self.mails("verification", customer.email)
        page = subject.press(self.link(verification))
        assert page.status_code == 200 and "your request is confirmed" in page.text
        found = re.search(r"<code>([0-9A-Z-]{19})</code>", page.text)
        assert found
        return found.group(1)

    def phone_change_approved(self, subject: Visitor, customer: company.Customer,
                              proposed: str) -> tuple[str, Visitor, str]:
        """A correction of `customer`'s telephone number to `proposed`, confirmed, read from
        the sources and approved by staff onto the billing record that holds the old number
        (not yet sent); return its reference, the staff's browser and the request's page."""
        reference = self.confirmed(subject, "/corrections/new", customer,
                                   send="Send correction request", **{
                                       "changes-0-category": "phone",
                                       "changes-0-current": customer.phone,
                                       "changes-0-proposed": proposed})
        staff = self.signed_in("staff@example.org")
        page = f"/console/requests/{reference}"
        assert staff.act(page, "start_collection").status_code == 302
        review = staff.wait_for_state(page, "in_review")
        change = re.search(rf"/console/requests/{reference}/changes/(\d+)/approve", review)
        held = re.search(r'name="targets" value="(\d+)"[^>]*> billing · Telephone: '
                         + re.escape(customer.phone), review)
        assert change and held, "the change, and the billing record that holds the number"
        decided = staff.post(f"{page}/changes/{change.group(1)}/approve",
                             {"targets": held.group(1)}, form=page)
        assert decided.status_code == 302
        return reference, staff, page

    def cli(self, *args: str) -> str:
        """Run a `flask` command of dsr on this database; return what it printed."""
        result = self.app.test_cli_runner().invoke(args=list(args))
        assert result.exit_code == 0, result.output
        return result.output

    def verify_audit(self) -> str:
        """`flask audit verify` on this database, which must find the chain intact."""
        output = self.cli("audit", "verify")
        assert "chain intact" in output, output
        assert "verify under the audit keys" in output, output
        assert "are the ones the witness saw" in output, output
        return output

    def logs(self) -> list[tuple[str, str]]:
        parts = [("gunicorn", self.web.output()), ("redis", self.redis.output())]
        parts.append(("consumers", self.consumers.output()))
        return parts


ACCOUNTS = {"staff@example.org": ["staff"], "first@example.org": ["legal"],
            "second@example.org": ["legal"]}


@pytest.fixture(scope="module")
def production(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[Production]:
    """gunicorn with 2 workers on a fresh PostgreSQL database, Redis, 2 job consumers (when
    dsr has `flask jobs worker`) and the demo company's stand-ins, on 127.0.0.1."""
    root = tmp_path_factory.mktemp("production")
    folder = root / "company"
    people = company.build(folder, customers_count=40, visits=600)
    standins = {
        "billing": serve(create_whmcs(folder / "billing.sqlite", WHMCS_ID, WHMCS_SECRET)),
        "analytics": serve(create_matomo(folder / "analytics.sqlite", MATOMO_TOKEN)),
        "helpdesk": serve(create_kayako(folder / "helpdesk.sqlite", KAYAKO_KEY,
                                        KAYAKO_SECRET)),
    }
    database = postgres_database(request)
    database_url = next(database)
    redis = servers.Redis(root)
    instance = root / "instance"
    env = servers.environment(instance)
    web = servers.Gunicorn(root / "gunicorn.log", env)
    sources = company_sources(folder, *(standins[name].url for name in
                                        ("billing", "analytics", "helpdesk")))
    settings = settings_for(database_url, redis, web.url, sources, root)
    servers.write_instance(instance, settings)
    # The same settings in this process, for commands run on the same database and queue.
    app = create_app(config_for(database_url) | settings)
    consumers = servers.Consumers(root, env)
    try:
        redis.start()
        web.start()
        consumers.start()
        stack = Production(web.url, instance, env, database_url, redis, web, consumers,
                           folder, people, standins, app)
        for email, roles in ACCOUNTS.items():
            stack.cli("users", "create", email, *(f"--role={r}" for r in roles),
                      f"--password={PASSWORD}")
        yield stack
    finally:
        consumers.stop()
        web.stop()
        redis.stop()
        for running in standins.values():
            running.stop()
        with app.app_context():
            db.engine.dispose()
        next(database, None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Iterator[Any]:
    """Add the servers' logs to the report of a failed test of the production shape."""
    report = yield
    stack = getattr(item, "funcargs", {}).get("production")
    if report.failed and isinstance(stack, Production):
        for name, text in stack.logs():
            report.sections.append((f"{name} log (last lines)", text[-6000:]))
    return report
