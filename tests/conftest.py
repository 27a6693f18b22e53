"""Fixtures: an app on a fresh, migrated database (SQLite, and PostgreSQL started here), clients,
accounts of each role, and helpers that act as a person would (sign in, send forms)."""

import contextvars
import email
import email.message
import email.policy
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import event, select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server
from werkzeug.test import TestResponse

from dsr import create_app, jobs
from dsr.auth import hash_password
from dsr.extensions import db
from dsr.models import OutboxMessage, Request, User, UserRole
from tests import servers

pytest_plugins = ["tests.production"]

PASSWORD = "correct horse battery staple"
BACKENDS = ["sqlite", "postgresql"]


def config_for(database_url: str) -> dict[str, object]:
    """Configuration of an app under test: a given database, cheap hashing, plain-HTTP cookies."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 8,
        "ARGON2_PARALLELISM": 1,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "HOLIDAY_COUNTRY": "DE",
        "ADAPTER_ENTRY_POINTS": False,
        "OUTBOX_DELIVER_AFTER_COMMIT": False,
    }


def migrate(database_url: str) -> None:
    """Build the schema the way `flask db upgrade` does."""
    app = create_app(config_for(database_url))
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Start a throw-away PostgreSQL server on 127.0.0.1; yield its URL without a database."""
    if servers.postgres_bindir() is None:
        pytest.fail("PostgreSQL is not installed: `make test` installs it (apt-get postgresql).")
    with servers.postgres() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_template(postgres_server: str) -> str:
    """A migrated database that each test's database is copied from."""
    servers.admin_sql(postgres_server, "CREATE DATABASE dsr_template")
    migrate(f"{postgres_server}/dsr_template")
    return "dsr_template"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test's database is copied from."""
    path = tmp_path_factory.mktemp("template") / "dsr.sqlite"
    migrate(f"sqlite:///{path}")
    return path


def postgres_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """A database copied from the migrated template for as long as the generator runs."""
    server = request.getfixturevalue("postgres_server")
    template = request.getfixturevalue("postgres_template")
    name = f"test_{uuid.uuid4().hex[:12]}"
    servers.admin_sql(server, f'CREATE DATABASE "{name}" TEMPLATE {template}')
    yield f"{server}/{name}"
    servers.admin_sql(server, f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for one test, on each backend in turn."""
    if request.param == "sqlite":
        path = tmp_path / "dsr.sqlite"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
    else:
        yield from postgres_database(request)


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh, migrated SQLite database, for tests that need no second backend."""
    path = tmp_path / "dsr.sqlite"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database, for what only PostgreSQL has."""
    yield from postgres_database(request)


def _settle(app: Flask, seconds: float) -> None:
    with app.app_context():
        try:
            deadline = time.monotonic() + seconds
            while jobs.unfinished() or jobs.queue().pending_count():
                assert time.monotonic() < deadline, "jobs still unfinished"
                time.sleep(0.01)
        finally:
            db.session.remove()


def settled(app: Flask, seconds: float = 30) -> None:
    """Wait until the consumer has run every job handed to it (and what those declared), as a
    person would wait for the page to show the outcome (at once when nothing consumes)."""
    if app.extensions.get("dsr.tests.consumed"):
        contextvars.Context().run(_settle, app, seconds)


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in a fresh context of its own, as in production,
    even while the test itself holds an app context open (so `g`, the signed-in user and the
    database session are never shared between a test and its requests). After each request
    it waits for the jobs that request handed to the consumer."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        response: TestResponse = contextvars.Context().run(super().open, *args, **kwargs)
        settled(self.application)
        return response


class IsolatedCliRunner(FlaskCliRunner):
    """A CLI runner whose commands run in a fresh context of their own, as from a shell, and
    that waits for the jobs a command handed to the consumer."""

    def invoke(self, *args: Any, **kwargs: Any) -> Result:
        result: Result = contextvars.Context().run(super().invoke, *args, **kwargs)
        settled(self.app)
        return result


@contextmanager
def consuming(app: Flask, wait: bool = True) -> Iterator[Any]:
    """A real consumer of the app's queue, in threads of the test process. With `wait`, a
    commit outside the consumer returns once the jobs it handed over have run (and what they
    declared), so that a test, like a person reloading the page, sees their outcome."""
    with app.app_context():
        consumer = jobs.queue().create_consumer(
            workers=2, worker_type="thread", periodic=False, initial_delay=0.005,
            backoff=1.2, max_delay=0.02, check_worker_health=False)
    workers = {thread for _, thread in consumer.worker_threads}

    def wait_for_jobs(session: Session) -> None:
        if threading.current_thread() not in workers and session.info.get("dsr.jobs.handed"):
            settled(app)

    consumer._set_signal_handlers = lambda: None  # the test runner keeps its own
    consumer.start()
    app.extensions["dsr.tests.consumed"] = True
    if wait:
        event.listen(Session, "after_commit", wait_for_jobs)
    try:
        yield consumer
    finally:
        if wait:
            event.remove(Session, "after_commit", wait_for_jobs)
        consumer.stop(graceful=True)
        app.extensions["dsr.tests.consumed"] = False


def app_on(database_url: str, consume: bool = True, **overrides: Any) -> Iterator[Flask]:
    """An app on `database_url` with test clients that isolate requests, in an app context,
    its jobs consumed by a real consumer (unless not `consume`) on SQLite storage of its
    own."""
    queue_folder = tempfile.mkdtemp(prefix="dsr-jobs-")
    overrides.setdefault("JOBS_URL", f"sqlite:///{queue_folder}/jobs.sqlite")
    app = create_app(config_for(database_url) | overrides)
    app.test_client_class = IsolatedClient
    app.test_cli_runner_class = IsolatedCliRunner
    with consuming(app, wait=consume) if consume else nullcontext(), app.app_context():
        yield app
        if consume:
            settled(app)
        db.session.remove()
    with app.app_context():
        db.engine.dispose()
    shutil.rmtree(queue_folder, ignore_errors=True)


@pytest.fixture
def app(database_url: str, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """An app on a fresh database, inside an app context, on each backend (for a test marked
    `unconsumed`, with nothing consuming its queue)."""
    yield from app_on(database_url,
                      consume=request.node.get_closest_marker("unconsumed") is None)


@pytest.fixture
def sqlite_app(sqlite_url: str) -> Iterator[Flask]:
    """An app on a fresh SQLite database only."""
    yield from app_on(sqlite_url)


class SmtpSink:
    """Keeps every message a real SMTP server on 127.0.0.1 received."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 Message accepted"

    def wait_for(self, count: int, seconds: float = 10) -> list[email.message.EmailMessage]:
        """Wait until `count` messages arrived; return them."""
        deadline = time.monotonic() + seconds
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.messages) >= count, f"{len(self.messages)} of {count} messages arrived"
        return self.messages


@pytest.fixture
def smtp_port() -> int:
    """A free port for an SMTP server (which a test may start late, to simulate an outage)."""
    return servers.free_port()


@pytest.fixture
def smtp(smtp_port: int) -> Iterator[SmtpSink]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1."""
    from aiosmtpd.controller import Controller

    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield sink
    controller.stop()


@pytest.fixture
def mail_app(sqlite_url: str, smtp_port: int, request: pytest.FixtureRequest
             ) -> Iterator[Flask]:
    """An app that sends its e-mail to the SMTP server on `smtp_port` right after the commit
    (for a test marked `mail_by_hand`, only when told to: `flask outbox send`)."""
    by_hand = request.node.get_closest_marker("mail_by_hand") is not None
    yield from app_on(sqlite_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_port, MAIL_TIMEOUT=2,
                      OUTBOX_DELIVER_AFTER_COMMIT=not by_hand)


@pytest.fixture
def postgres_app(postgres_url: str) -> Iterator[Flask]:
    """An app on a fresh PostgreSQL database only."""
    yield from app_on(postgres_url)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def make_user(email: str, *roles: str, password: str = PASSWORD) -> User:
    """Create and commit an account with `roles`."""
    user = User(email=email, password_hash=hash_password(password))
    user.roles = [UserRole(role=role) for role in roles]
    db.session.add(user)
    db.session.commit()
    return user


@pytest.fixture
def users(app: Flask) -> dict[str, User]:
    """One account per role, plus one holding both staff and legal."""
    return {
        "staff": make_user("staff@example.org", "staff"),
        "legal": make_user("legal@example.org", "legal"),
        "admin": make_user("admin@example.org", "admin"),
        "staff_legal": make_user("both@example.org", "staff", "legal"),
    }


def csrf_token(client: FlaskClient, url: str) -> str:
    """Read the CSRF token from the page at `url`, as a browser would have it."""
    page = client.get(url).get_data(as_text=True)
    tag = re.search(r'<input[^>]*name="csrf_token"[^>]*>', page)
    assert tag, f"no CSRF token on {url}"
    value = re.search(r'value="([^"]+)"', tag.group(0))
    assert value
    return value.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD):
    """Sign in through the form, CSRF token and all; return the response."""
    token = csrf_token(client, "/staff/sign-in")
    return client.post(
        "/staff/sign-in", data={"email": email, "password": password, "csrf_token": token}
    )


# The journeys' steps: the outbox's messages, the link in one, pressing a page's button, and
# staff firing triggers through the console's forms.
def mails(kind: str | None = None) -> list[OutboxMessage]:
    db.session.expire_all()
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.execute(query).scalars())


def link(message: OutboxMessage) -> str:
    found = re.search(r"http://127\.0\.0\.1:5000(/\S+)", message.body)
    assert found, message.body
    return found.group(1)


def press(client: FlaskClient, url: str):
    return client.post(url, data={"csrf_token": csrf_token(client, url)})


def staff_acts(app: Flask, reference: str, *triggers: str, **fields: str) -> None:
    staff = app.test_client()
    sign_in(staff, "staff@example.org")
    for trigger in triggers:
        page = staff.get(f"/console/requests/{reference}").get_data(as_text=True)
        version = re.search(r'name="version" value="(\d+)"', page).group(1)
        response = staff.post(f"/console/requests/{reference}/transitions", data={
            "trigger": trigger, "version": version, **fields,
            "csrf_token": csrf_token(staff, f"/console/requests/{reference}")})
        assert response.status_code == 302, trigger


def confirmed_request(client: FlaskClient, customer: Any) -> Request:
    page = "/requests/new"
    client.post(page, data={"type": "access", "email": customer.email,
                            "name": f"{customer.first} {customer.last}",
                            "csrf_token": csrf_token(client, page)})
    press(client, link(mails("verification")[-1]))
    return db.session.execute(select(Request).where(
        Request.requester_email == customer.email)).scalars().all()[-1]


@pytest.fixture
def staff_client(client: FlaskClient, users: dict[str, User]) -> FlaskClient:
    """A client signed in as the staff account."""
    assert sign_in(client, "staff@example.org").status_code == 302
    return client


CHROMIUM = "/usr/bin/chromium"
# Chromium's own calls home fail on this closed network; these flags stop it from trying.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """Serve `app` on a free port of 127.0.0.1 in a thread; yield its base URL. Each answer
    is sent once the jobs its request handed over have run, as a person would wait."""

    def settling(environ: Any, start_response: Any) -> list[bytes]:
        response = app(environ, start_response)
        try:
            body = list(response)
        finally:
            getattr(response, "close", lambda: None)()
        settled(app)
        return body

    server = make_server("127.0.0.1", 0, settling, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """A real headless Chromium, driven by Playwright."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: `make test` installs it (apt-get chromium).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser tab with JavaScript off: every page must work without it."""
    context = browser.new_context(java_script_enabled=False, accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()
