"""Retention: with the clock moved forward, each rule purges what is due and nothing before,
keeps what it says it keeps, audits each purge by count and ids, never a value, and leaves
the audit chain intact; a purge cut short is finished by the next run, nothing twice."""

import hashlib
import re
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dsr import retention
from dsr.adapters.whmcs import CLOSED_CLIENTS
from dsr.database import utcnow
from dsr.disclosures import documents, transparency
from dsr.extensions import db
from dsr.models import (
    AuditEvent,
    ChangeTarget,
    Disclosure,
    DisclosureDocument,
    FoundItem,
    OutboxMessage,
    PolicyMailing,
    PolicyVersion,
    ProposedChange,
    Request,
    RequestNote,
    SourceRun,
    SubjectSignIn,
)
from dsr.subjects import expiry
from tests.factories import make_request, opener
from tests.fixtures.browser import served, staff_sign_in
from tests.fixtures.company import DEMO_REGISTER, company_sources
from tests.fixtures.databases import app_on
from tests.fixtures.people import csrf_token, make_user, sign_in

ADDRESS = "rosa.rivera@example.com"


def purged_events() -> list[dict]:
    return [details for (details,) in db.session.execute(
        select(AuditEvent.details).where(AuditEvent.action == "retention.purged")
        .order_by(AuditEvent.seq))]


def assert_chain_intact_and_free_of(app: Flask, *values: str) -> None:
    assert "chain intact" in app.test_cli_runner().invoke(args=["audit", "verify"]).output
    for (details,) in db.session.execute(select(AuditEvent.details)):
        assert not any(value in str(details) for value in values)


def test_an_unconfirmed_request_loses_its_personal_fields_30_days_after_it_lapsed(
        app: Flask) -> None:
    case = make_request("access", "submitted", email=ADDRESS, name="Rosa Rivera",
                        received_at=utcnow() - timedelta(hours=73))
    case.message = "Please include my old tickets."
    db.session.commit()
    assert expiry.expire_unverified() == 1
    mail = db.session.execute(select(OutboxMessage).where(
        OutboxMessage.kind == "expired")).scalar_one()
    assert "We searched none of our systems for it." in mail.body
    assert "We keep the address, name and message it was sent with for 30 days" in mail.body
    assert "kept nothing" not in mail.body
    lapsed = utcnow()

    with time_machine.travel(lapsed + timedelta(days=29), tick=False):
        assert retention.purge()["unconfirmed_requests"] == 0
        db.session.expire_all()
        assert db.session.get(Request, case.id).requester_email == ADDRESS  # type: ignore

    with time_machine.travel(lapsed + timedelta(days=31), tick=False):
        assert retention.purge()["unconfirmed_requests"] == 1
        assert retention.purge()["unconfirmed_requests"] == 0, "purged once"
    db.session.expire_all()
    kept = db.session.get(Request, case.id)
    assert kept is not None
    assert (kept.requester_email, kept.requester_name, kept.message) == ("", "", None)
    assert (kept.reference, kept.type, kept.state) == (case.reference, "access", "expired")
    assert kept.received_at is not None and kept.due_at is not None
    assert purged_events() == [{"code": "unconfirmed_requests", "count": 1,
                                "rows": [str(case.id)]}]
    assert_chain_intact_and_free_of(app, ADDRESS, "Rosa Rivera")


def test_findings_go_after_the_download_window_and_the_released_answer_stays(
        app: Flask) -> None:
    case = make_request("access", "closed", email=ADDRESS)
    case.released_at, case.answer = utcnow(), {"findings": 1}
    db.session.add(FoundItem(request_id=case.id, source="billing", category="email",
                             label="E-mail address", value=ADDRESS, record_kind="client",
                             record_key="7"))
    db.session.add(SourceRun(request_id=case.id, source="billing", state="done",
                             started_at=utcnow(), findings=1, identity={"ips": ["198.51.100.7"]}))
    db.session.commit()
    released = utcnow()

    with time_machine.travel(released + timedelta(days=29), tick=False):
        assert retention.purge()["findings"] == 0
    with time_machine.travel(released + timedelta(days=31), tick=False):
        assert retention.purge()["findings"] == 1
    db.session.expire_all()
    assert db.session.execute(select(FoundItem)).first() is None
    kept = db.session.get(Request, case.id)
    assert kept is not None and kept.answer == {"findings": 1}
    run = db.session.execute(select(SourceRun)).scalar_one()
    assert (run.identity, run.findings) == ({}, 1), "what it searched by goes, the count stays"
    assert_chain_intact_and_free_of(app, ADDRESS)


def test_mail_loses_its_address_and_text_a_week_after_delivery_and_sign_ins_go(
        app: Flask) -> None:
    sent = OutboxMessage(kind="sign_in", to_address=ADDRESS, subject="Your sign-in link",
                         body="Hello Rosa", state="sent", sent_at=utcnow())
    waiting = OutboxMessage(kind="sign_in", to_address="waits@example.com",
                            subject="Your sign-in link", body="Hello", state="pending")
    db.session.add_all([sent, waiting, SubjectSignIn(email=ADDRESS)])
    db.session.commit()
    start = utcnow()

    with time_machine.travel(start + timedelta(days=6), tick=False):
        assert not any(retention.purge().values()), "nothing is due before its day"
    with time_machine.travel(start + timedelta(days=8), tick=False):
        assert retention.purge()["mail"] == 1
    db.session.expire_all()
    assert (sent.to_address, sent.body, sent.subject, sent.state) == (
        "", "", "Your sign-in link", "sent")
    assert waiting.to_address == "waits@example.com", "mail not yet delivered stays"
    assert db.session.execute(select(SubjectSignIn)).first() is not None
    with time_machine.travel(start + timedelta(days=31), tick=False):
        assert retention.purge()["sign_ins"] == 1
    assert db.session.execute(select(SubjectSignIn)).first() is None
    assert_chain_intact_and_free_of(app, ADDRESS)


def test_a_purge_cut_short_is_finished_by_the_next_run_and_nothing_twice(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    db.session.add_all([SubjectSignIn(email=f"p{n}@example.com") for n in range(5)])
    db.session.commit()
    record, calls = retention.audit.record, []

    def crash_on_the_second_batch(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the process died")
        return record(*args, **kwargs)

    with time_machine.travel(utcnow() + timedelta(days=40), tick=False):
        monkeypatch.setattr(retention.audit, "record", crash_on_the_second_batch)
        with pytest.raises(RuntimeError):
            retention.purge(batch=2)
        db.session.rollback()
        assert len(db.session.execute(select(SubjectSignIn)).all()) == 3, "one batch done"
        monkeypatch.setattr(retention.audit, "record", record)
        assert retention.purge(batch=2)["sign_ins"] == 3
    assert db.session.execute(select(SubjectSignIn)).first() is None
    ids = [row for event in purged_events() for row in event["rows"]]
    assert len(ids) == len(set(ids)) == 5
    assert_chain_intact_and_free_of(app, "p1@example.com")


def test_the_report_and_a_dry_run_say_what_would_go_and_delete_nothing(app: Flask) -> None:
    db.session.add(SubjectSignIn(email=ADDRESS, created_at=datetime(2026, 1, 1, tzinfo=UTC)))
    db.session.add(SubjectSignIn(email="later@example.com"))
    db.session.commit()
    runner = app.test_cli_runner()
    report = runner.invoke(args=["retention", "report"]).output
    next_day = (utcnow() + timedelta(days=30)).date().isoformat()
    assert f"sign_ins (kept 30 days): 1 due now; 1 more, the next on {next_day}." in report
    assert "deletes the address and text of an e-mail" in report
    dry = runner.invoke(args=["retention", "purge", "--dry-run"]).output
    assert "Would purge 1 record(s) under sign_ins." in dry
    assert len(db.session.execute(select(SubjectSignIn)).all()) == 2
    assert "Purged 1 record(s) under sign_ins." in runner.invoke(
        args=["retention", "purge"]).output
    assert len(db.session.execute(select(SubjectSignIn)).all()) == 1


def test_the_admin_reads_the_same_report_in_the_browser_and_staff_may_not(
        client: FlaskClient, users) -> None:
    db.session.add(SubjectSignIn(email=ADDRESS, created_at=datetime(2026, 1, 1, tzinfo=UTC)))
    db.session.commit()
    sign_in(client, "staff@example.org")
    assert client.get("/admin/retention").status_code == 403
    admin = client.application.test_client()
    sign_in(admin, "admin@example.org")
    page = admin.get("/admin/retention").get_data(as_text=True)
    assert "<code>sign_ins</code>: kept 30 days" in page
    assert re.search(r"<code>sign_ins</code>.*?<dt>Due now</dt><dd>1</dd>", page, re.S)
    assert ADDRESS not in page
    assert 'href="/admin/retention"' in admin.get("/admin/").get_data(as_text=True)


def test_staff_read_a_purged_request_as_its_skeleton(client: FlaskClient, users) -> None:
    case = make_request("access", "expired", email=ADDRESS, name="Rosa Rivera")
    closed = make_request("access", "closed", email="sam@example.com")
    closed.released_at, closed.answer = utcnow(), {"findings": 1}
    db.session.add(FoundItem(request_id=closed.id, source="billing", category="email",
                             label="E-mail address", value="sam@example.com",
                             record_kind="client", record_key="7"))
    db.session.commit()
    with time_machine.travel(utcnow() + timedelta(days=40), tick=False):
        assert retention.purge()["unconfirmed_requests"] == 1
    sign_in(client, "staff@example.org")
    for reference in (case.reference, closed.reference):
        page = client.get(f"/console/requests/{reference}")
        assert page.status_code == 200
        assert reference in page.get_data(as_text=True)
    assert ADDRESS not in client.get(f"/console/requests/{case.reference}").get_data(
        as_text=True)


def test_a_closed_request_keeps_only_its_skeleton_a_year_after_it_ended(
        client: FlaskClient, users) -> None:
    case = make_request("access", "closed", email=ADDRESS, name="Rosa Rivera")
    case.message, case.answer, case.released_at = "Old tickets too.", {"findings": 1}, utcnow()
    case.extension_reason = "Rosa Rivera's archive is on tape."
    db.session.add(RequestNote(request_id=case.id, author_id=users["staff"].id,
                               text="Rosa called about it."))
    db.session.add(SourceRun(request_id=case.id, source="billing", state="done",
                             started_at=utcnow(), findings=3, searched={"emails": 1},
                             identity={"customer_ids": ["7"]}))
    still_open = make_request("access", "in_review", email="sam@example.com")
    db.session.commit()
    ended = case.updated_at

    with time_machine.travel(ended + timedelta(days=364), tick=False):
        assert retention.purge()["closed_requests"] == 0
    with time_machine.travel(ended + timedelta(days=366), tick=False):
        assert retention.purge()["closed_requests"] == 1
        assert retention.purge()["closed_requests"] == 0, "purged once"
    db.session.expire_all()
    kept = db.session.get(Request, case.id)
    assert kept is not None
    assert (kept.requester_email, kept.requester_name, kept.message, kept.answer,
            kept.extension_reason) == ("", "", None, None, None)
    assert (kept.reference, kept.type, kept.state, kept.updated_at) == (
        case.reference, "access", "closed", ended), "the skeleton and its dates stay"
    assert kept.purged_by_rule == "closed_requests"
    assert db.session.execute(select(RequestNote)).first() is None
    run = db.session.execute(select(SourceRun)).scalar_one()
    assert (run.identity, run.findings, run.searched) == ({}, 3, {"emails": 1})
    assert db.session.get(Request, still_open.id).requester_email == "sam@example.com"  # type: ignore[union-attr]
    assert purged_events()[-1] == {"code": "closed_requests", "count": 1,
                                   "rows": [str(case.id)]}
    assert_chain_intact_and_free_of(client.application, ADDRESS, "Rosa Rivera")

    sign_in(client, "staff@example.org")
    page = client.get(f"/console/requests/{case.reference}").get_data(as_text=True)
    assert "under the retention rule <code>closed_requests</code>" in page
    assert "Rosa" not in page
    assert "No notes are kept on a purged request." in page
    token = csrf_token(client, f"/console/requests/{case.reference}")
    refused = client.post(f"/console/requests/{case.reference}/notes",
                          data={"csrf_token": token, "text": "Rosa called again."})
    assert refused.status_code == 409
    assert "no notes are kept on it any more" in refused.get_data(as_text=True)
    assert db.session.execute(select(RequestNote)).first() is None


def _correction(state: str) -> tuple[Request, ProposedChange, ChangeTarget]:
    case = make_request("correction", state, email=ADDRESS)
    change = ProposedChange(request_id=case.id, category="address",
                            current_value="Old Street 1", proposed_value="New Street 2",
                            why="I moved.", note="Checked the lease.", state="applied")
    target = ChangeTarget(source="billing", record_kind="client", record_key="7",
                          record_field="address1", label="Billing address",
                          previous_value="Old Street 1", state="confirmed")
    change.targets.append(target)
    db.session.add(change)
    db.session.commit()
    return case, change, target


def test_a_corrections_values_go_30_days_after_it_ended_what_was_decided_stays(
        app: Flask) -> None:
    case, change, target = _correction("closed")
    ongoing, *_ = _correction("applying")
    ended = case.updated_at

    with time_machine.travel(ended + timedelta(days=29), tick=False):
        assert retention.purge()["correction_values"] == 0
    with time_machine.travel(ended + timedelta(days=31), tick=False):
        assert retention.purge()["correction_values"] == 1
        assert retention.purge()["correction_values"] == 0, "purged once"
    db.session.expire_all()
    assert (change.current_value, change.proposed_value, change.why, change.note) == (
        "", "", "", "")
    assert (change.category, change.state) == ("address", "applied")
    assert target.previous_value == ""
    assert (target.source, target.label, target.state) == (
        "billing", "Billing address", "confirmed")
    left = db.session.execute(select(ProposedChange).where(
        ProposedChange.request_id == ongoing.id)).scalar_one()
    assert left.proposed_value == "New Street 2", "a correction under way keeps its values"
    assert_chain_intact_and_free_of(app, "Old Street 1", "New Street 2")


def test_a_change_we_did_not_make_stays_whole_with_the_subjects_statement(
        app: Flask) -> None:
    from dsr import corrections
    from dsr.actors import SUBJECT

    case, stated, _ = _correction("rejected")
    stated.state, stated.targets = "rejected", []
    other = ProposedChange(request_id=case.id, category="phone", proposed_value="+49 30 1",
                           current_value="+49 30 2", state="rejected")
    db.session.add(other)
    db.session.commit()
    corrections.add_statement(case, stated, "My address is New Street 2.", actor=SUBJECT)
    db.session.commit()
    with time_machine.travel(case.updated_at + timedelta(days=31), tick=False):
        assert retention.purge()["correction_values"] == 1
        assert retention.purge()["correction_values"] == 0, "nothing left for the rule"
    db.session.expire_all()
    assert (stated.statement, stated.proposed_value, stated.current_value) == (
        "My address is New Street 2.", "New Street 2", "Old Street 1")
    assert (other.proposed_value, other.current_value, other.state) == ("", "", "rejected")


def _disclosure(state: str, folder_document: bytes) -> tuple[Request, Disclosure]:
    case = make_request("disclosure", state, email=ADDRESS)
    record = db.session.get(Disclosure, case.id)
    assert record is not None
    record.officer, record.contact = "KOK Rosa Weber", "weber@lka.example"
    record.approved_targets = [{"kind": "email", "value": ADDRESS}]
    record.package, record.package_sha256 = b'{"records": []}', "ab" * 32
    record.manifest, record.accounts = {"categories": {"email": 1}, "records": 1}, 1
    record.notify_email, record.gag_basis = ADDRESS, "Order of the court"
    digest = hashlib.sha256(folder_document).hexdigest()
    documents.folder().mkdir(parents=True, exist_ok=True)
    (documents.folder() / digest).write_bytes(folder_document)
    db.session.add(DisclosureDocument(request_id=case.id, filename="order.pdf",
                                      content_type="application/pdf",
                                      size=len(folder_document), sha256=digest,
                                      uploaded_by=opener().id))
    db.session.commit()
    return case, record


def test_a_disclosure_record_goes_by_legals_setting_never_under_a_gag(
        client: FlaskClient, users, tmp_path) -> None:
    kept_in = tmp_path / "documents"
    client.application.config["DISCLOSURE_DOCUMENTS"] = str(kept_in)
    case, record = _disclosure("closed", b"%PDF-1.4 the order")
    _, gag = _disclosure("withdrawn", b"%PDF-1.4 another order")
    gag.gag_until = (utcnow() + timedelta(days=1000)).date()
    db.session.commit()
    year = case.received_at.year
    counted = transparency.as_csv(transparency.compile_report(year))
    ended = case.updated_at

    with time_machine.travel(ended + timedelta(days=729), tick=False):
        assert retention.purge()["disclosures"] == 0
    with time_machine.travel(ended + timedelta(days=731), tick=False):
        assert retention.purge()["disclosures"] == 1, "the gagged record stays"
        assert retention.purge()["disclosures"] == 0, "purged once"
    db.session.expire_all()
    assert (record.package, record.notify_email, record.officer, record.subject_keys) == (
        None, None, "", [])
    assert record.targets == [{"kind": "email", "value": ""}]
    assert (record.authority, record.instrument, record.citation, record.package_sha256) == (
        "Landeskriminalamt Test", "court_order", "AG Test 12 Gs 34/26", "ab" * 32)
    assert db.session.execute(select(DisclosureDocument).where(
        DisclosureDocument.request_id == case.id)).first() is None
    left = sorted(path.name for path in kept_in.iterdir())
    assert left == [hashlib.sha256(b"%PDF-1.4 another order").hexdigest()], \
        "the purged record's document is deleted from the disk, the gagged one's kept"
    assert gag.notify_email == ADDRESS
    assert transparency.as_csv(transparency.compile_report(year)) == counted
    assert_chain_intact_and_free_of(client.application, ADDRESS, "Weber")

    with time_machine.travel(gag.gag_until + timedelta(days=1), tick=False):
        assert retention.purge()["disclosures"] == 1, "once the gag lapsed"

    legal = client.application.test_client()
    sign_in(legal, "legal@example.org")
    page = legal.get(f"/legal/{case.reference}").get_data(as_text=True)
    assert "under the retention rule <code>disclosures</code>" in page
    assert ADDRESS not in page and "Weber" not in page
    assert legal.get(f"/legal/{case.reference}/package.json").status_code == 404


def test_a_policy_notices_address_goes_once_its_mailing_is_done(app: Flask, users) -> None:
    version = PolicyVersion(text="# Policy", summary="New", effective_on=utcnow().date(),
                            created_by=users["admin"].id, number=1, published_at=utcnow(),
                            published_by=users["admin"].id)
    db.session.add(version)
    db.session.flush()
    mailing = PolicyMailing(version_id=version.id, state="sending")
    db.session.add(mailing)
    db.session.flush()
    notice = OutboxMessage(kind="policy", mailing_id=mailing.id, to_address=ADDRESS,
                           subject="Our privacy policy changes", body="Dear customer",
                           state="sent", sent_at=utcnow())
    db.session.add(notice)
    db.session.commit()
    sent = utcnow()

    with time_machine.travel(sent + timedelta(days=8), tick=False):
        assert retention.purge()["mail"] == 0, "a mailing still sending keeps its addresses"
        mailing.state = "done"
        db.session.commit()
        assert retention.purge()["mail"] == 1
    db.session.expire_all()
    assert (notice.to_address, notice.body, notice.state) == ("", "", "sent")


@pytest.fixture
def aged_company(company_copy, whmcs_server, matomo_server, kayako_server, sqlite_url):
    """The demo company's sources, three of them stating their retention in days, with
    visits and chats older than that, and two closed client accounts."""
    folder, _ = company_copy
    sources = company_sources(folder, whmcs_server.url, matomo_server.url, kayako_server.url)
    for name, days in (("billing", 1095), ("analytics", 396), ("chats", 730)):
        sources[name]["register"] = sources[name]["register"] | {"retention_days": days}
    old = datetime(2023, 5, 1, tzinfo=UTC)
    with sqlite3.connect(folder / "analytics.sqlite") as connection:
        connection.executemany(
            "INSERT INTO log_visit (idsite, visit_last_action_time) VALUES (1, ?)",
            [((old + timedelta(hours=n)).strftime("%Y-%m-%d %H:%M:%S"),) for n in range(12)])
    with sqlite3.connect(folder / "helpdesk.sqlite") as connection:
        connection.execute("INSERT INTO swchatobjects (userid, useremail, subject, transcript, "
                           "dateline) VALUES (1, 'old@example.com', 'Old', '...', ?)",
                           (int(old.timestamp()),))
    with sqlite3.connect(folder / "billing.sqlite") as connection:
        connection.execute("UPDATE tblclients SET status = 'Closed' WHERE id IN (3, 4)")
    yield from app_on(sqlite_url, SOURCES=sources, DSR_REGISTER=DEMO_REGISTER, SOURCE_TIMEOUT=8)


def test_the_report_lists_what_the_sources_hold_past_their_stated_retention(
        aged_company: Flask) -> None:
    report = aged_company.test_cli_runner().invoke(args=["retention", "report"]).output
    cutoff = (utcnow() - timedelta(days=396)).date()
    assert f"Visits (raw log): 12 from before {cutoff:%-d %B %Y}" in report
    assert "Live chat: 1 from before" in report
    assert f"{CLOSED_CLIENTS}: 2, of any age (the source does not say how old" in report
    assert "Its adapter cannot tell the age of its records." in report, "Kayako says so"
    assert "dsr deletes nothing there" in report

    admin = aged_company.test_client()
    make_user("admin@example.org", "admin")
    sign_in(admin, "admin@example.org")
    page = admin.get("/admin/retention").get_data(as_text=True)
    assert re.search(r"<dt>Visits \(raw log\)</dt><dd>12 from before", page)
    assert re.search(r"<dt>Closed client accounts</dt><dd>2, of any age", page)
    assert "Its adapter cannot tell the age of its records." in page

    with sqlite3.connect(aged_company.config["SOURCES"]["chats"]["settings"]["url"]
                         .removeprefix("sqlite:///")) as connection:
        connection.execute("DELETE FROM swchatobjects WHERE useremail = 'old@example.com'")
    token = csrf_token(admin, "/admin/retention")
    assert admin.post("/admin/retention/count", data={"csrf_token": token}).status_code == 302
    page = admin.get("/admin/retention").get_data(as_text=True)
    assert re.search(r"<dt>Live chat</dt><dd>0 from before", page), "counted again by the job"
    assert db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "retention.count_requested")).first() is not None


@pytest.mark.parametrize("width", [375, 1280])
def test_the_retention_page_reads_at_any_width_in_a_browser(
        aged_company: Flask, browser, width: int) -> None:
    make_user("admin@example.org", "admin")
    with served(aged_company) as base:
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        staff_sign_in(page, base, "admin@example.org")
        page.goto(f"{base}/admin/retention")
        assert page.get_by_text("Not counted yet.").count() == 3
        page.get_by_role("button", name="Count again now").click()
        page.wait_for_url(f"{base}/admin/retention")
        assert page.get_by_text("12 from before").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        context.close()
