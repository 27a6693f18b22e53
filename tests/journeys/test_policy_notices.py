"""Publishing a policy version tells every customer of the demo company once: listed from
billing (the WHMCS stand-in, 1,000 customers), sent to a real SMTP server (aiosmtpd on
127.0.0.1) at the configured rate, by a real consumer; one killed half-way is followed by
one that tells only those not yet told."""

import email
import email.message
import email.policy
import re
import secrets
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from dsr import create_app, policy
from dsr.demo import company
from dsr.demo.standins import serve
from dsr.demo.standins.whmcs import create_whmcs
from dsr.extensions import db
from dsr.models import AuditEvent, OutboxMessage, PolicyMailing
from tests import servers
from tests.fixtures.browser import csp_refusals, served, staff_sign_in
from tests.fixtures.company import DEMO_REGISTER, WHMCS_ID, WHMCS_SECRET, whmcs_settings
from tests.fixtures.databases import app_on, config_for, consuming
from tests.fixtures.people import csrf_token, make_user, sign_in

SUMMARY = "We now keep invoices for ten years, as tax law requires."


class Mailbox:
    """A real SMTP server's received messages, with when each arrived; `accepts` is asked
    before a message is taken (a test's way to kill the sender in mid-send)."""

    def __init__(self) -> None:
        self.messages: list[tuple[float, email.message.EmailMessage]] = []
        self.accepts: Callable[[int], bool] = lambda count: True
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if not self.accepts(len(self.messages)):
            return "451 4.3.0 Try again later"
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append((time.monotonic(), parsed))  # type: ignore[arg-type]
        return "250 Message accepted"

    def recipients(self) -> list[str]:
        return [str(message["To"]) for _, message in self.messages]

    def wait_for(self, count: int, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while len(self.messages) < count:
            assert time.monotonic() < deadline, f"{len(self.messages)} of {count} arrived"
            time.sleep(0.1)


@pytest.fixture(scope="session")
def demo_billing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[company.Customer]]:
    """The demo company's billing as `make run` builds it: 1,000 customers."""
    folder = tmp_path_factory.mktemp("billing")
    people = company.customers(1000)
    company.build_billing(folder / "billing.sqlite", people)
    return folder, people


@pytest.fixture
def billing(demo_billing, tmp_path: Path) -> Iterator[tuple[Path, list[company.Customer], str]]:
    """A copy of that billing a test may change, served by the WHMCS stand-in; its URL."""
    folder, people = demo_billing
    copy = tmp_path / "billing"
    shutil.copytree(folder, copy)
    running = serve(create_whmcs(copy / "billing.sqlite", WHMCS_ID, WHMCS_SECRET))
    yield copy, people, running.url
    running.stop()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    from aiosmtpd.controller import Controller

    box, port = Mailbox(), servers.free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def billing_customers(folder: Path) -> set[str]:
    """Every distinct address of a customer whose account is open, as billing holds them."""
    with sqlite3.connect(folder / "billing.sqlite") as connection:
        return {row[0].lower() for row in connection.execute(
            "SELECT email FROM tblclients WHERE status != 'Closed'")}


def add_clients(folder: Path, *clients: tuple[str, str, str]) -> None:
    """Add clients (e-mail, day the account was opened, status) to billing."""
    with sqlite3.connect(folder / "billing.sqlite") as connection:
        connection.executemany(
            "INSERT INTO tblclients (firstname, lastname, email, datecreated, status) "
            "VALUES ('Extra', 'Client', ?, ?, ?)", clients)


def notice_settings(folder: Path, whmcs_url: str, smtp_port: int, rate: int
                    ) -> dict[str, Any]:
    return {
        "SOURCES": {"billing": {"adapter": "whmcs", "settings": whmcs_settings(whmcs_url),
                                "identifies": "client", "register": DEMO_REGISTER}},
        "DSR_REGISTER": DEMO_REGISTER, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_port,
        "MAIL_TIMEOUT": 5, "POLICY_NOTICE_RATE": rate, "PUBLIC_URL": "https://privacy.test",
    }


def publish_as_admin(client: FlaskClient) -> int:
    """Write, preview and publish a new version through the admin pages; its number."""
    sign_in(client, "admin@example.org")
    url = "/admin/policy/new"
    draft = client.post(url, data={
        "text": "# Privacy policy\n\nInvoices are kept ten years.\n", "summary": SUMMARY,
        "effective_on": (policy.today() + timedelta(days=30)).isoformat(),
        "csrf_token": csrf_token(client, url)})
    assert draft.status_code == 302
    published = client.post(f"{draft.headers['Location']}/publish", data={
        "confirm": "y", "csrf_token": csrf_token(client, draft.headers["Location"])})
    assert published.status_code == 302
    return int(published.headers["Location"].rsplit("/", 1)[1])


def audited(action: str) -> list[dict[str, Any]]:
    return [details for (details,) in db.session.execute(
        select(AuditEvent.details).where(AuditEvent.action == action))]


RATE = 6000  # a minute: the 1,000 customers in ten seconds


@pytest.fixture
def notice_app(billing, mailbox, sqlite_url: str) -> Iterator[Flask]:
    folder, _, url = billing
    yield from app_on(sqlite_url, **notice_settings(folder, url, mailbox[1], RATE))


def test_publishing_tells_every_customer_in_billing_once_at_the_configured_rate(
        notice_app: Flask, billing, mailbox) -> None:
    folder, people, _ = billing
    box, _ = mailbox
    first = people[0]
    tomorrow = (policy.today() + timedelta(days=1)).isoformat()
    add_clients(folder, (first.email.upper(), "2025-01-01", "Active"),  # the same person
                ("newcomer@example.com", tomorrow, "Active"),  # newer than the version
                ("gone@example.com", "2024-01-01", "Closed"))
    expected = billing_customers(folder) - {"newcomer@example.com"}
    assert len(expected) == 1000
    make_user("admin@example.org", "admin")

    number = publish_as_admin(notice_app.test_client())
    box.wait_for(1000)
    time.sleep(0.5)  # nothing more comes
    recipients = box.recipients()
    assert len(recipients) == 1000 and set(recipients) == expected, \
        "one e-mail to each distinct customer address, none to the newer account"
    arrivals = [at for at, _ in box.messages]
    assert arrivals[-1] - arrivals[0] >= 999 * 60 / RATE * 0.95, "no faster than the rate"

    bodies = {message.get_content() for _, message in box.messages}
    assert len(bodies) == 1, "the same words for every customer: no personal data in them"
    [body] = bodies
    assert SUMMARY in body and f"https://privacy.test/policy/{number}" in body
    effective = policy.today() + timedelta(days=30)
    assert f"takes effect on {effective:%-d %B %Y}" in body
    assert first.first not in body and first.last not in body
    subject = str(box.messages[0][1]["Subject"])
    assert subject == f"Our privacy policy changes on {effective:%-d %B %Y}"

    client = notice_app.test_client()
    sign_in(client, "admin@example.org")
    counts = client.get(f"/admin/policy/{number}/mailing.json").get_json()
    assert counts == {"state": "done", "listed": 1000, "sent": 1000, "waiting": 0,
                      "failed": 0, "bounced": 0, "skipped_newer": 1, "failed_sources": []}
    page = client.get(f"/admin/policy/{number}").get_data(as_text=True)
    assert re.search(r'data-count="sent">1000<', page)
    assert "1 customer whose account is newer than this version is not told of it." in page
    assert audited("policy.listed") == [{"code": f"v{number}", "count": 1000, "sources": []}]
    assert audited("policy.notified") == [{"code": f"v{number}", "count": 1000, "failed": 0,
                                           "bounced": 0}]
    assert "chain intact" in notice_app.test_cli_runner().invoke(args=["audit", "verify"]).output


def test_a_refused_address_bounces_and_a_failed_one_is_sent_again(
        notice_app: Flask, billing, mailbox) -> None:
    _, people, _ = billing
    box, _ = mailbox
    refused = people[5].email.lower()

    async def refuse_one(server: Any, session: Any, envelope: Any, address: str,
                         options: Any) -> str:
        if address == refused:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    box.handle_RCPT = refuse_one  # type: ignore[attr-defined]
    make_user("admin@example.org", "admin")
    number = publish_as_admin(notice_app.test_client())
    box.wait_for(999)
    mailing = db.session.execute(select(PolicyMailing)).scalar_one()
    db.session.refresh(mailing)
    [bounced] = db.session.execute(select(OutboxMessage).where(
        OutboxMessage.state == "bounced")).scalars()
    assert bounced.to_address == refused and bounced.attempts == 1, "not tried again"
    assert refused not in box.recipients()

    # One that failed for good is sent again when the admin asks.
    bounced.state = "failed"
    db.session.commit()
    del box.handle_RCPT  # type: ignore[attr-defined]
    client = notice_app.test_client()
    sign_in(client, "admin@example.org")
    page = client.get(f"/admin/policy/{number}").get_data(as_text=True)
    assert "Send the failed messages again" in page
    retried = client.post(f"/admin/policy/{number}/retry", data={
        "csrf_token": csrf_token(client, f"/admin/policy/{number}")})
    assert retried.status_code == 302
    box.wait_for(1000)
    assert box.recipients().count(refused) == 1
    assert [d["count"] for d in audited("policy.retried")] == [1]


def test_a_consumer_killed_half_way_is_followed_by_one_that_tells_the_rest_once(
        billing, mailbox, sqlite_url: str, tmp_path: Path) -> None:
    folder, _, url = billing
    box, port = mailbox
    expected = billing_customers(folder)
    settings = notice_settings(folder, url, port, rate=3000) | {
        "SQLALCHEMY_DATABASE_URI": sqlite_url, "SECRET_KEY": secrets.token_hex(32),
        "AUDIT_KEYS": {"notices": secrets.token_hex(32)},
        "AUDIT_WITNESS_FILE": str(tmp_path / "witness" / "heads.log"),
        "JOBS_URL": f"sqlite:///{tmp_path / 'jobs.sqlite'}",
        # A claim older than this is a dead consumer's: short, so the test waits little.
        "JOB_LEASE_SECONDS": 6, "SOURCE_TIMEOUT": 2, "JOB_HANDOVER_GRACE_SECONDS": 1,
        "OUTBOX_SENDING_LEASE_SECONDS": 6, "ADAPTER_ENTRY_POINTS": False,
        "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1}
    instance = servers.write_instance(tmp_path / "instance", settings)
    consumers = servers.Consumers(tmp_path, servers.environment(instance), count=1)
    app = create_app(config_for(sqlite_url) | settings)
    killed = threading.Event()

    def kill_half_way(count: int) -> bool:
        if count == 500 and not killed.is_set():
            killed.set()
            consumers.kill()  # while message 501 is being handed over: not taken
            return False
        return True

    box.accepts = kill_half_way
    try:
        consumers.start()
        with app.app_context():
            make_user("admin@example.org", "admin")
            publish_as_admin(app.test_client())
            deadline = time.monotonic() + 60
            while not killed.is_set():
                assert time.monotonic() < deadline, "the consumer was not killed half-way"
                time.sleep(0.05)
            time.sleep(1)
            assert len(box.messages) == 500, "the dead consumer sent no more"
            db.session.expire_all()
            assert db.session.execute(select(PolicyMailing.state)).scalar_one() == "sending"

            consumers.start()
            deadline = time.monotonic() + 120
            while db.session.execute(select(PolicyMailing.state)).scalar_one() != "done":
                assert time.monotonic() < deadline, f"{len(box.messages)} of 1000 told"
                app.test_cli_runner().invoke(args=["jobs", "sweep"])  # as the minute's sweep
                time.sleep(0.5)
                db.session.expire_all()
            recipients = box.recipients()
            assert len(recipients) == 1000 and set(recipients) == expected, \
                "every customer told, and told once"
            assert "chain intact" in app.test_cli_runner().invoke(
                args=["audit", "verify"]).output
            db.session.remove()
    finally:
        consumers.stop()
        with app.app_context():
            db.engine.dispose()


@pytest.mark.browser
def test_the_progress_bar_moves_without_a_reload_and_ends_done(
        billing, mailbox, sqlite_url: str, browser: Browser) -> None:
    folder, _, url = billing
    _, port = mailbox
    for app in app_on(sqlite_url, consume=False,
                      **notice_settings(folder, url, port, rate=3000)):
        make_user("admin@example.org", "admin")
        # A consumer the pages do not wait for, as in production.
        with consuming(app, wait=False), served(app) as base:
            context = browser.new_context()  # JavaScript on, as most admins have it
            page = context.new_page()
            refused = csp_refusals(page)
            staff_sign_in(page, base, "admin@example.org")
            page.goto(f"{base}/admin/policy/new")
            page.get_by_label("The policy's text").fill("# Privacy policy\n\nTen years.\n")
            page.get_by_label("What changes").fill(SUMMARY)
            page.get_by_label("Takes effect on").fill(
                (policy.today() + timedelta(days=30)).isoformat())
            page.get_by_role("button", name="Save draft").click()
            page.get_by_role("checkbox").check()
            page.get_by_role("button", name="Publish and e-mail customers").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Privacy policy version 1")
            page.evaluate("window.notReloaded = true")
            sent = page.locator('#mailing [data-count="sent"]')
            first = int(sent.inner_text())
            expect(sent).not_to_have_text(str(first), timeout=15_000)
            expect(page.locator("#mailing-state")).to_have_text(
                "Done: every customer listed was handled.", timeout=60_000)
            expect(sent).to_have_text("1000")
            assert page.evaluate("window.notReloaded") is True, "the counts came without a reload"
            width = page.locator('[data-part="sent"]').evaluate("e => e.getAttribute('width')")
            assert width == "100%"
            drawn = page.locator('[data-part="sent"]').evaluate(
                "e => e.getBoundingClientRect().width / e.parentElement.clientWidth")
            assert drawn > 0.99, "the bar is drawn full width"
            context.close()
            assert not refused, refused
