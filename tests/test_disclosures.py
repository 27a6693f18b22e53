"""Legal's disclosure register without sources: who may see it, the four-eyes rule, what a
refusal leaves behind, deadlines, the intake's checks, and the transparency counts."""

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from dsr import audit
from dsr.database import utcnow
from dsr.extensions import db
from dsr.models import (
    AuditEvent,
    Disclosure,
    DisclosureDocument,
    FoundItem,
    SourceRun,
    User,
)
from tests.factories import make_request
from tests.fixtures.legal import PDF, act, approve, latest, legal, open_record, state
from tests.fixtures.people import csrf_token


def test_staff_are_denied_the_register_and_its_records(app: Flask, staff_client) -> None:
    case = make_request("disclosure", "legal_review")
    for url in ("/legal/", "/legal/new", f"/legal/{case.reference}", "/legal/transparency",
                "/legal/transparency.csv", f"/legal/{case.reference}/package.json"):
        response = staff_client.get(url)
        assert response.status_code == 403, url
        assert "This page needs the role legal." in response.get_data(as_text=True)
    assert staff_client.get(f"/console/requests/{case.reference}").status_code == 404
    assert case.reference not in staff_client.get("/console/").get_data(as_text=True)
    assert "disclosure.view" not in [e.action for e in audit.events_for(case.id)]


def test_the_person_who_opened_a_record_cannot_approve_it(app: Flask) -> None:
    first = legal(app, "first@example.org")
    assert open_record(first).status_code == 302
    case = latest()
    assert act(first, case, "start_review").status_code == 302

    refused = approve(first, case, targets=["email:ana.lima@example.com"],
                      data_types=["subscriber", "traffic"])
    assert refused.status_code == 422
    assert "a second legal officer must" in refused.get_data(as_text=True)
    assert state(case) == "legal_review"

    second = legal(app, "second@example.org")
    assert approve(second, case, targets=["email:ana.lima@example.com", "customer_id:10017"],
                   data_types=["subscriber", "traffic"]).status_code == 302
    record = db.session.get(Disclosure, case.id)
    assert state(case) == "approved"
    assert record.approved_by == db.session.execute(select(User.id).where(
        User.email == "second@example.org")).scalar_one()
    assert record.approved_types == ["subscriber", "traffic"]


def test_the_four_eyes_rule_can_be_switched_off(app: Flask) -> None:
    app.config["DISCLOSURE_FOUR_EYES"] = False
    only = legal(app, "only@example.org")
    open_record(only)
    case = latest()
    act(only, case, "start_review")
    assert approve(only, case, targets=["email:ana.lima@example.com"],
                   data_types=["subscriber"], narrowing_reason="Traffic data is not covered "
                                                            "by the order.").status_code == 302
    assert state(case) == "approved"


def test_a_narrower_approval_needs_its_reason(app: Flask) -> None:
    open_record(legal(app, "first@example.org"))
    case = latest()
    second = legal(app, "second@example.org")
    act(second, case, "start_review")
    narrowed = {"targets": ["email:ana.lima@example.com"], "data_types": ["subscriber"]}
    refused = approve(second, case, **narrowed)
    assert refused.status_code == 422
    assert "Say why the disclosure is narrower" in refused.get_data(as_text=True)
    wider = approve(second, case, **narrowed, range_from="2025-06-01",
                    narrowing_reason="Only subscriber data is covered.")
    assert wider.status_code == 422
    assert "within the range asked for" in wider.get_data(as_text=True)
    assert approve(second, case, **narrowed,
                   narrowing_reason="The order covers subscriber data only.").status_code == 302
    record = db.session.get(Disclosure, case.id)
    assert record.approved_types == ["subscriber"]
    assert record.approved_targets == [{"kind": "email", "value": "ana.lima@example.com"}]


def test_a_refused_request_collects_nothing_and_discloses_nothing(app: Flask) -> None:
    open_record(legal(app, "first@example.org"))
    case = latest()
    second = legal(app, "second@example.org")
    act(second, case, "start_review")
    assert act(second, case, "refuse", reason="").status_code == 422
    assert act(second, case, "refuse", reason="A subpoena from outside the EU has no force "
                                               "here; refer them to an MLAT.").status_code == 302
    assert state(case) == "refused"
    assert act(second, case, "start_collection").status_code == 409
    assert db.session.execute(select(SourceRun).where(SourceRun.request_id == case.id)).first() \
        is None
    assert db.session.execute(select(FoundItem).where(FoundItem.request_id == case.id)).first() \
        is None
    record = db.session.get(Disclosure, case.id)
    assert record.package is None and record.delivered_at is None
    assert second.get(f"/legal/{case.reference}/package.json").status_code == 404


@pytest.mark.parametrize(
    ("overrides", "due"),
    [
        ({"emergency": "y"}, timedelta(hours=8)),
        ({}, timedelta(days=10)),
        ({"deadline": "2026-11-23T12:00"}, timedelta(days=3, hours=2, minutes=30)),
    ],
)
def test_the_deadline_is_8_hours_for_an_emergency_10_days_or_as_stated(
    app: Flask, overrides: dict[str, str], due: timedelta
) -> None:
    client = legal(app, "first@example.org")
    open_record(client, **overrides)
    case = latest()
    assert case.due_at - case.received_at == due
    assert case.received_at == datetime(2026, 11, 20, 8, 30, tzinfo=UTC), "Berlin time"


def test_emergencies_come_first_in_the_register(app: Flask) -> None:
    client = legal(app, "first@example.org")
    # Due sooner than the emergency, and still listed after it.
    open_record(client, authority="Ordinary Police", deadline="2026-11-20T11:00")
    open_record(client, authority="Emergency Police", emergency="y",
                received_at="2026-11-21T10:00")
    page = client.get("/legal/").get_data(as_text=True)
    assert page.index("Emergency Police") < page.index("Ordinary Police")
    assert "emergency</strong>" in page


def test_a_wrong_target_is_refused_and_nothing_typed_is_lost(app: Flask) -> None:
    client = legal(app, "first@example.org")
    response = open_record(client, targets="ana.lima@example.com\nnot a target!")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "&#39;not a target!&#39; is neither an e-mail address" in page
    assert "AG Tiergarten 351 Gs 12/26" in page and "Landeskriminalamt Berlin" in page
    assert latest() is None


def test_documents_are_checked_by_content_and_size_and_downloads_audited(
    app: Flask, tmp_path
) -> None:
    app.config["DISCLOSURE_DOCUMENTS"] = str(tmp_path / "documents")
    app.config["DISCLOSURE_DOCUMENT_MAX_BYTES"] = 2000
    client = legal(app, "first@example.org")
    import io

    fake = open_record(client, documents=[(io.BytesIO(b"MZ\x90\x00 not a pdf"), "order.pdf")])
    assert fake.status_code == 400
    assert "order.pdf is not one of the accepted kinds" in fake.get_data(as_text=True)
    big = open_record(client, documents=[(io.BytesIO(PDF + b"0" * 3000), "order.pdf")])
    assert big.status_code == 400 and "is larger than" in big.get_data(as_text=True)
    assert latest() is None

    assert open_record(client, documents=[(io.BytesIO(PDF), "../../Order 12.pdf")]
                       ).status_code == 302
    case = latest()
    [document] = db.session.execute(select(DisclosureDocument)).scalars()
    assert (document.filename, document.content_type) == ("Order 12.pdf", "application/pdf")
    assert document.sha256 == hashlib.sha256(PDF).hexdigest()
    assert (tmp_path / "documents" / document.sha256).read_bytes() == PDF
    download = client.get(f"/legal/{case.reference}/documents/{document.id}")
    assert download.data == PDF
    assert "document.downloaded" in [e.action for e in audit.events_for(case.id)]


def seed(received: datetime, instrument: str, country: str, state: str, *,
         records: int = 1, accounts: int = 1, narrowed: bool = False) -> None:
    """A finished record of the register, as the workflow would have left it."""
    case = make_request("disclosure", state, received_at=received)
    record = db.session.get(Disclosure, case.id)
    record.instrument, record.country = instrument, country
    if state in ("disclosed", "notification_deferred", "subject_notified", "closed"):
        record.approved_targets = record.targets
        record.approved_types = [] if narrowed else record.data_types
        record.manifest = {"categories": {"email": records}, "records": records}
        record.accounts = accounts
    db.session.commit()


def test_the_transparency_report_counts_a_year_of_the_register(app: Flask) -> None:
    def at(month: int, day: int = 10) -> datetime:
        return datetime(2025, month, day, 12, tzinfo=UTC)

    seed(at(1), "court_order", "DE", "disclosed", accounts=2)
    seed(at(2), "court_order", "DE", "closed", narrowed=True, accounts=1)
    seed(at(5), "subpoena", "US", "refused")
    seed(at(8), "emergency", "DE", "notification_deferred", records=0, accounts=0)
    seed(at(11), "search_warrant", "FR", "withdrawn")
    seed(at(12), "court_order", "NL", "legal_review")             # not decided: pending
    seed(datetime(2024, 12, 31, 12, tzinfo=UTC), "court_order", "DE", "disclosed")  # not 2025
    client = legal(app, "first@example.org")

    page = client.get("/legal/transparency?year=2025").get_data(as_text=True)
    rows = dict(re.findall(r'<tr><th scope="row">([^<]+)</th><td>(?:<strong>)?(\d+)', page))
    assert rows == {"2025-Q1": "2", "2025-Q2": "1", "2025-Q3": "1", "2025-Q4": "1",
                    "2025": "5", "Court order": "2", "Subpoena": "1", "Emergency request": "1",
                    "Search warrant": "1", "DE": "3", "US": "1", "FR": "1"}
    assert "1 request(s) still being decided" in page
    assert "<svg" in page and "2025-Q1: 1 all data" in page and "2025-Q1: 1 some data" in page

    csv_text = client.get("/legal/transparency.csv?year=2025&by=year").get_data(as_text=True)
    assert csv_text.splitlines() == [
        "period,instrument,country,outcome,requests,accounts_affected",
        "2025,Court order,DE,all data,1,2",
        "2025,Court order,DE,some data,1,1",
        "2025,Emergency request,DE,no data,1,0",
        "2025,Search warrant,FR,withdrawn,1,0",
        "2025,Subpoena,US,refused,1,0",
    ]
    assert client.get("/legal/transparency?year=20x5").status_code == 400
    actions = set(db.session.execute(select(AuditEvent.action)).scalars())
    assert {"transparency.viewed", "transparency.exported"} <= actions


def test_a_gag_order_needs_a_future_date(app: Flask) -> None:
    case = make_request("disclosure", "disclosed")
    client = legal(app, "first@example.org")
    past = (utcnow().date() - timedelta(days=1)).isoformat()
    refused = act(client, case, "defer_notification", reason="StPO § 95a", until=past)
    assert refused.status_code == 422 and "a date after today" in refused.get_data(as_text=True)
    ahead = (utcnow().date() + timedelta(days=90)).isoformat()
    assert act(client, case, "defer_notification", reason="StPO § 95a",
               until=ahead).status_code == 302
    assert act(client, case, "notify_subject").status_code == 422, "not while the gag holds"


def test_crafted_input_gets_a_clear_4xx_never_a_500(app: Flask, tmp_path) -> None:
    import io

    app.config["DISCLOSURE_DOCUMENTS"] = str(tmp_path)
    client = legal(app, "first@example.org")
    open_record(client, documents=[(io.BytesIO(PDF), "приказ № 12.pdf")])
    case = latest()
    page = f"/legal/{case.reference}"
    stale = client.post(f"{page}/transitions", data={
        "trigger": "start_review", "version": "²", "csrf_token": csrf_token(client, page)})
    assert stale.status_code == 409
    for year in ("0000", "9999", "²⁰²⁵", "-1"):
        assert client.get(f"/legal/transparency?year={year}").status_code == 400, year
        assert client.get(f"/legal/transparency.csv?year={year}").status_code == 400, year
    [document] = db.session.execute(select(DisclosureDocument)).scalars()
    download = client.get(f"{page}/documents/{document.id}")
    assert download.status_code == 200 and download.data == PDF
    assert "filename*=UTF-8''" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    future = open_record(client, received_at="2099-01-01T10:00")
    assert future.status_code == 400 and "in the future" in future.get_data(as_text=True)
    early = open_record(client, deadline="2026-11-19T10:00")
    assert early.status_code == 400 and "after the request arrived" in early.get_data(
        as_text=True)
