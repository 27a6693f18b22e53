"""The journeys in the production shape: dsr under gunicorn with two web workers, on
PostgreSQL, its rate limits on Redis, used over real HTTP against the demo company's systems
(access, correction, disclosure); and what a web worker killed in the middle of a request, or
Redis going away, leaves behind."""

import hashlib
import json
import os
import re
import signal
import threading
import time
from typing import Any

import pytest
import requests

from dsr.demo import company
from dsr.demo.standins import query
from tests.fixtures.legal import PDF

pytestmark = [pytest.mark.production, pytest.mark.postgresql,
              pytest.mark.xdist_group("production")]

NEW_PHONE = "+49 30 90182600"
COURT_ORDER = {
    "received_at": "2026-11-20T09:30", "channel": "email",
    "authority": "Landeskriminalamt Berlin", "officer": "KHK Muster",
    "contact": "+49 30 4664 0", "country": "DE",
    "authenticity_check": "Called back the LKA's switchboard on its published number.",
    "authenticity_result": "confirmed", "instrument": "court_order",
    "citation": "AG Tiergarten 351 Gs 12/26", "data_types": ["subscriber", "traffic"],
    "range_from": "", "range_to": "",
}
ALL_SOURCES_DONE = "(?s)" + "".join(
    rf"(?=.*<td>{name}</td>\s*<td><span class=\"state[^\"]*\">done</span>)"
    for name in ("analytics", "billing", "chats", "helpdesk"))


def api_request(production, email: str) -> requests.Response:
    return requests.post(f"{production.url}/api/v1/requests", timeout=30, json={
        "type": "access", "email": email, "name": "Kim Example"})


def test_a_subject_asks_staff_collect_in_the_background_and_the_answer_holds_every_system(
    production
) -> None:
    me = production.people[company.MENTIONING - 1]
    subject = production.visitor()
    reference = production.confirmed(subject, "/requests/new", me, type="access")

    staff = production.signed_in("staff@example.org")
    page = f"/console/requests/{reference}"
    assert staff.act(page, "start_collection").status_code == 302
    review = staff.wait_for_state(page, "in_review")
    assert "Transfer domain to a colleague" in review
    assert staff.act(page, "approve").status_code == 302
    assert staff.act(page, "release").status_code == 302

    [ready] = production.mails("ready", me.email)
    assert me.phone not in ready, "no data in the e-mail"
    signed_in = subject.press(production.link(ready))
    assert (signed_in.status_code, signed_in.headers["Location"]) == (302, "/my/")
    answer = subject.get(f"/my/requests/{reference}/report.json")
    assert answer.status_code == 200
    report = answer.json()
    sources = {f["source"] for f in report["findings"]}
    assert {"billing", "analytics", "helpdesk"} <= sources
    assert me.email in answer.text and "Transfer domain to a colleague" in answer.text
    others = [c for c in production.people if c.id != me.id]
    assert not [c.email for c in others if c.email in answer.text]
    access_log = production.web.output()
    token = production.link(ready).rsplit("/", 1)[-1]
    assert "POST /my/session/[cut] HTTP" in access_log, "the access log has the request"
    assert token not in access_log, "but not the link's token (issue 13, finding 7)"
    production.verify_audit()


def test_a_correction_is_written_to_billing_read_back_and_shown_to_the_subject(
    production
) -> None:
    me = production.people[8]
    subject = production.visitor()
    reference, staff, page = production.phone_change_approved(subject, me, "030 90182600")
    assert staff.act(page, "decide").status_code == 302

    applied = staff.wait_for_state(page, "applied")
    assert "written and read back" in applied
    [client] = query(production.company / "billing.sqlite",
                     "SELECT phonenumber FROM tblclients WHERE id = ?", me.id)
    assert client["phonenumber"] == NEW_PHONE

    [told] = production.mails("applied", me.email)
    assert NEW_PHONE not in told
    assert subject.press(production.link(told)).status_code == 302
    outcome = subject.page(f"/my/requests/{reference}/changes")
    assert "Corrected" in outcome
    production.verify_audit()


def test_a_court_order_is_approved_collected_and_its_package_sealed(production) -> None:
    me = production.people[3]
    first = production.signed_in("first@example.org")
    opened = first.post("/legal/new", {**COURT_ORDER, "targets": me.email},
                        files={"documents": ("order.pdf", PDF, "application/pdf")})
    assert opened.status_code == 302
    page = opened.headers["Location"]
    assert re.fullmatch(r"/legal/[0-9A-Z-]{19}", page)

    second = production.signed_in("second@example.org")
    assert second.act(page, "start_review").status_code == 302
    version = re.search(r'name="version" value="(\d+)"', second.page(page))
    assert version
    approved = second.post(f"{page}/approve", {
        "targets": [f"email:{me.email}"], "data_types": ["subscriber"], "range_from": "",
        "range_to": "", "narrowing_reason": "The order names subscriber data only.",
        "version": version.group(1)}, form=page)
    assert approved.status_code == 302
    assert second.act(page, "start_collection").status_code == 302
    second.wait_for(page, ALL_SOURCES_DONE)

    assert second.act(page, "review_package").status_code == 302
    sealed = second.wait_for_state(page, "package_reviewed")
    shown = re.search(r"SHA-256 <code>([0-9a-f]{64})</code>", sealed)
    package = second.get(f"{page}/package.json")
    assert shown and package.status_code == 200
    assert hashlib.sha256(package.content).hexdigest() == shown.group(1)
    records = json.loads(package.content)["records"]
    assert {r["category"] for r in records} >= {"email", "name"}
    assert not {r["category"] for r in records} & {"ip", "visit", "ticket", "chat"}
    assert me.email in package.text

    assert second.act(page, "disclose", delivery="secure_portal").status_code == 302
    second.wait_for_state(page, "disclosed")
    production.verify_audit()


def test_the_mail_budget_per_address_is_counted_across_both_web_workers(production) -> None:
    statuses = [api_request(production, "often@example.net").status_code for _ in range(4)]
    assert statuses == [202, 202, 202, 202], "an address is never refused"
    kinds = production.sql("SELECT kind FROM outbox_messages WHERE to_address = %s "
                           "ORDER BY id", "often@example.net")
    assert [kind for (kind,) in kinds] == ["verification"] * 3 + ["digest"], \
        "three e-mails, then one digest, whichever worker took each"


def blocked_backend(production, seconds: float = 20) -> tuple[int, int, Any]:
    """The PostgreSQL backend waiting for the audit head's lock: its pid, its client's port
    and its transaction id (set once it has written a row)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        rows = production.sql(
            "SELECT pid, client_port, backend_xid FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND query LIKE 'UPDATE audit_head%%'")
        if rows:
            [row] = rows
            return row
        time.sleep(0.05)
    raise AssertionError("no submission is waiting for the audit head")


def test_a_web_worker_killed_in_the_middle_of_a_request_leaves_nothing_half_written(
    production
) -> None:
    victim = "killed-mid-request@example.net"
    visitor = production.visitor()
    token = visitor.token("/requests/new")
    outcome: list[object] = []

    def submit() -> None:
        try:
            outcome.append(visitor.http.post(
                f"{production.url}/requests/new", timeout=60, allow_redirects=False,
                data={"type": "access", "email": victim, "name": "Kim Example",
                      "csrf_token": token}))
        except requests.ConnectionError as error:
            outcome.append(error)

    with production.connect() as lock:
        lock.execute(b"SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE")
        thread = threading.Thread(target=submit)
        thread.start()
        backend, port, xid = blocked_backend(production)
        assert xid is not None, "the request row is written, its transaction open"
        worker = production.web.worker_using(port)
        assert worker in production.web.workers()
        os.kill(worker, signal.SIGKILL)
        thread.join(timeout=60)
        assert not thread.is_alive()
        lock.rollback()
    [lost] = outcome
    assert isinstance(lost, requests.ConnectionError), "the visitor got no answer"

    deadline = time.monotonic() + 20
    while production.sql("SELECT 1 FROM pg_stat_activity WHERE pid = %s", backend):
        assert time.monotonic() < deadline, "the killed worker's transaction still runs"
        time.sleep(0.05)
    assert production.sql("SELECT id FROM requests WHERE requester_email = %s", victim) == []
    assert production.sql("SELECT id FROM outbox_messages WHERE to_address = %s", victim) == []

    deadline = time.monotonic() + 30
    while worker in (workers := production.web.workers()) or len(workers) != 2:
        assert time.monotonic() < deadline, "gunicorn did not replace the worker"
        time.sleep(0.1)
    again = production.visitor().post("/requests/new", {
        "type": "access", "email": victim, "name": "Kim Example"})
    assert again.status_code == 302
    assert len(production.sql("SELECT id FROM requests WHERE requester_email = %s",
                              victim)) == 1
    assert len(production.mails("verification", victim)) == 1
    production.verify_audit()


def test_while_redis_is_away_submissions_are_taken_and_limits_count_there_again(
    production
) -> None:
    by_form, by_api = "no-redis-form@example.net", "no-redis-api@example.net"
    production.redis.stop()
    try:
        sent = production.visitor().post("/requests/new", {
            "type": "access", "email": by_form, "name": "Kim Example"})
        assert sent.status_code == 302 and sent.headers["Location"].endswith("/requests/sent")
        taken = api_request(production, by_api)
        assert taken.status_code == 202 and taken.json()["state"] == "submitted"
    finally:
        production.redis.start()
    assert len(production.mails("verification", by_form)) == 1
    assert len(production.mails("verification", by_api)) == 1

    deadline, number = time.monotonic() + 40, 0
    while production.rate_limit_counters() == 0:
        assert time.monotonic() < deadline, "the web workers never counted in Redis again"
        number += 1
        assert api_request(production, f"after-redis-{number}@example.net").status_code == 202
        time.sleep(0.3)
    production.verify_audit()


def test_work_started_while_the_queue_is_away_runs_once_it_is_back(production) -> None:
    me = production.people[6]
    reference = production.confirmed(production.visitor(), "/requests/new", me, type="access")
    staff = production.signed_in("staff@example.org")
    page = f"/console/requests/{reference}"
    production.redis.stop()
    try:
        assert staff.act(page, "start_collection").status_code == 302, "taken, not a 500"
        assert "collecting" in staff.page(page)
    finally:
        production.redis.start()
    [(queued,)] = production.sql("SELECT count(*) FROM jobs WHERE state = 'queued'")
    assert queued >= 1, "the intent to collect is kept in dsr's database"
    def state() -> str:
        [(found,)] = production.sql("SELECT state FROM requests WHERE reference = %s",
                                    reference)
        return str(found)

    assert state() == "collecting"
    deadline = time.monotonic() + 40
    while state() != "in_review":
        assert time.monotonic() < deadline, "the collection never ran"
        production.cli("jobs", "sweep")  # what the periodic sweep does every minute
        time.sleep(0.5)
    [(answered,)] = production.sql(
        "SELECT count(*) FROM audit_events JOIN requests ON requests.id = "
        "audit_events.request_id WHERE reference = %s AND action = 'collection.source_done'",
        reference)
    assert answered == 5, "each of the five sources (dsr's own records too) asked once"
    production.verify_audit()
