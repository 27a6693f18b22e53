"""Correction requests end to end against the demo company's systems: a subject proposes,
confirms through the address on file, staff decide each change against what the sources hold,
approved changes are written to the WHMCS stand-in and read back, recipients are told, and the
subject sees each outcome; and what happens when a write fails, a change replaces the e-mail
address, or a change has to be made by hand."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from dsr import audit
from dsr.database import utcnow
from dsr.demo import company
from dsr.demo.standins import query
from dsr.extensions import db
from dsr.models import (
    AuditEvent,
    ChangeTarget,
    FoundItem,
    ProposedChange,
    RecipientNotice,
    Request,
)
from tests.fixtures.people import csrf_token, link, mails, make_user, press, sign_in, staff_acts

NEW_PHONE = "+49 30 90182600"
REASON = "Our contracts are with the company as registered; send us the register extract."


def propose(client: FlaskClient, customer: company.Customer, *changes: dict[str, str]):
    url = "/corrections/new"
    data = {"email": customer.email, "name": f"{customer.first} {customer.last}",
            "send": "Send correction request", "csrf_token": csrf_token(client, url)}
    for number, change in enumerate(changes):
        data |= {f"changes-{number}-{key}": value for key, value in change.items()}
    return client.post(url, data=data)


def confirmed(client: FlaskClient, customer: company.Customer, *changes: dict[str, str]
              ) -> Request:
    assert propose(client, customer, *changes).status_code == 302
    press(client, link(mails("verification")[-1]))
    return db.session.execute(select(Request).where(
        Request.requester_email == customer.email)).scalars().all()[-1]


def staff(app: Flask) -> FlaskClient:
    client = app.test_client()
    sign_in(client, "staff@example.org")
    return client


def changes(case: Request) -> list[ProposedChange]:
    db.session.expire_all()
    return list(db.session.execute(select(ProposedChange).where(
        ProposedChange.request_id == case.id).order_by(ProposedChange.id)).scalars())


def found(case: Request, source: str, field: str) -> FoundItem:
    return db.session.execute(select(FoundItem).where(
        FoundItem.request_id == case.id, FoundItem.source == source,
        FoundItem.record_field == field)).scalars().first()


def decide(client: FlaskClient, case: Request, change: ProposedChange, decision: str,
           **data: object):
    page = f"/console/requests/{case.reference}"
    return client.post(f"{page}/changes/{change.id}/{decision}",
                       data={**data, "csrf_token": csrf_token(client, page)})


def billing_client(folder: Path, customer: company.Customer) -> dict[str, str]:
    [row] = query(folder / "billing.sqlite", "SELECT * FROM tblclients WHERE id = ?",
                  customer.id)
    return row


def state(case: Request) -> str:
    db.session.expire_all()
    return db.session.get(Request, case.id).state


@pytest.fixture
def people(company_app: Flask, company_copy) -> list[company.Customer]:
    make_user("staff@example.org", "staff")
    return company_copy[1]


@pytest.fixture
def in_review(company_app: Flask, people) -> tuple[Request, company.Customer]:
    """A confirmed request for two changes whose current values have been read."""
    me = people[8]
    case = confirmed(company_app.test_client(), me,
                     {"category": "phone", "proposed": "030 90182600", "current": me.phone},
                     {"category": "company", "proposed": "Dawit Studio GmbH",
                      "why": "We became a GmbH."})
    staff_acts(company_app, case.reference, "start_collection")
    assert state(case) == "in_review"
    return case, me


def test_approved_change_is_written_read_back_and_told_and_rejected_one_explained(
    company_app: Flask, in_review, company_copy
) -> None:
    case, me = in_review
    folder, _ = company_copy
    phone, firm = changes(case)
    assert phone.proposed_value == NEW_PHONE, "stored as the sources keep numbers"
    desk = staff(company_app)

    page = desk.get(f"/console/requests/{case.reference}").get_data(as_text=True)
    held = found(case, "billing", "phonenumber")
    assert me.phone in page and NEW_PHONE in page, "current value next to the proposed one"
    assert re.search(rf'value="{held.id}" checked', page), "the value they said is wrong"
    assert decide(desk, case, phone, "approve", targets=[held.id]).status_code == 302
    assert decide(desk, case, firm, "reject", reason=REASON).status_code == 302
    staff_acts(company_app, case.reference, "decide")

    [decisions] = mails("decisions")
    assert decisions.to_address == me.email
    assert REASON in decisions.body and "supervisory authority" in decisions.body
    assert NEW_PHONE not in decisions.body, "values stay out of e-mail to the subject"

    # Sending the decisions applies the approved change at once.
    assert billing_client(folder, me)["phonenumber"] == NEW_PHONE
    assert billing_client(folder, me)["companyname"] == me.company, "rejected: untouched"
    [target] = changes(case)[0].targets
    assert target.state == "confirmed" and target.previous_value == me.phone
    assert state(case) == "applied"

    [notice] = mails("rectification")
    assert notice.to_address == "privacy@demo-bank.example"
    assert f"client {me.id}" in notice.body and NEW_PHONE in notice.body
    told = db.session.execute(select(RecipientNotice.recipient, RecipientNotice.state).where(
        RecipientNotice.request_id == case.id).order_by(RecipientNotice.id)).all()
    assert told == [("Demo Bank AG", "queued"), ("Archive Partner Ltd", "no_address")]

    subject = company_app.test_client()
    press(subject, link(mails("applied")[-1]))
    outcome = subject.get(f"/my/requests/{case.reference}/changes").get_data(as_text=True)
    assert "Corrected" in outcome and "Not corrected" in outcome and REASON in outcome
    assert "Demo Bank AG" in outcome and "Archive Partner Ltd" in outcome

    trail = " ".join(str(e.details) for e in db.session.execute(select(AuditEvent)).scalars())
    assert NEW_PHONE not in trail and me.phone not in trail and "GmbH" not in trail
    assert REASON not in trail
    actions = [e.action for e in audit.events_for(case.id)]
    assert {"change.approved", "change.rejected", "target.confirmed", "change.applied",
            "recipient.notice"} <= set(actions)
    assert audit.verify().intact


def test_a_rejection_without_a_reason_is_refused_and_nothing_changes(
    company_app: Flask, in_review
) -> None:
    case, _ = in_review
    _, firm = changes(case)
    desk = staff(company_app)

    refused = decide(desk, case, firm, "reject", reason="   ")
    assert refused.status_code == 422
    assert "A reason is required" in refused.get_data(as_text=True)
    assert changes(case)[1].state == "proposed"

    page = f"/console/requests/{case.reference}"
    version = re.search(r'name="version" value="(\d+)"', desk.get(page).get_data(as_text=True))
    early = desk.post(f"{page}/transitions", data={
        "trigger": "decide", "version": version.group(1), "csrf_token": csrf_token(desk, page)})
    assert early.status_code == 422
    assert "Decide every proposed change first" in early.get_data(as_text=True)


def test_approving_needs_a_record_and_only_this_requests_records(
    company_app: Flask, in_review, people
) -> None:
    case, _ = in_review
    phone, _ = changes(case)
    desk = staff(company_app)
    assert decide(desk, case, phone, "approve").status_code == 422
    other = confirmed(company_app.test_client(), people[2],
                      {"category": "phone", "proposed": "+49 30 1234567"})
    staff_acts(company_app, other.reference, "start_collection")
    theirs = found(other, "billing", "phonenumber")
    assert decide(desk, case, phone, "approve", targets=[theirs.id]).status_code == 400
    assert changes(case)[0].state == "proposed"


def test_a_failed_write_is_shown_and_retried_alone(
    company_app: Flask, in_review, whmcs_server, company_copy
) -> None:
    case, me = in_review
    folder, _ = company_copy
    phone, firm = changes(case)
    desk = staff(company_app)
    decide(desk, case, phone, "approve", targets=[found(case, "billing", "phonenumber").id])
    decide(desk, case, firm, "approve", targets=[found(case, "billing", "companyname").id])

    whmcs_server.app.config["FAIL_NEXT"] = 1  # the first write gets a 503; writes are sent once
    staff_acts(company_app, case.reference, "decide")
    phone, firm = changes(case)
    assert (phone.state, firm.state) == ("failed", "applied")
    assert "503" in phone.targets[0].error
    assert billing_client(folder, me)["phonenumber"] == me.phone
    assert state(case) == "applying"
    page = desk.get(f"/console/requests/{case.reference}").get_data(as_text=True)
    assert "Write to billing again" in page and "503" in page

    url = f"/console/requests/{case.reference}/targets/{phone.targets[0].id}/retry"
    desk.post(url, data={"csrf_token": csrf_token(desk, f"/console/requests/{case.reference}")})
    assert billing_client(folder, me)["phonenumber"] == NEW_PHONE
    assert [c.state for c in changes(case)] == ["applied", "applied"]
    phone, firm = changes(case)
    assert (phone.targets[0].attempts, firm.targets[0].attempts) == (2, 1), "retried alone"
    assert state(case) == "applied"


def test_a_new_email_address_is_confirmed_by_the_old_one_told_to_it_and_waits(
    company_app: Flask, people, company_copy
) -> None:
    folder, _ = company_copy
    me = people[10]
    new = "rosa@jansen-studio.example"
    case = confirmed(company_app.test_client(), me, {"category": "email", "proposed": new})
    [verification] = mails("verification")
    assert verification.to_address == me.email, "confirmed through the address on file"
    assert "replacing this e-mail address" in verification.body
    staff_acts(company_app, case.reference, "start_collection")
    [change] = changes(case)
    desk = staff(company_app)
    decide(desk, case, change, "approve", targets=[found(case, "billing", "email").id,
                                                   found(case, "helpdesk", "email").id])
    staff_acts(company_app, case.reference, "decide")

    [notice] = mails("email-change")
    assert notice.to_address == me.email and new not in notice.body, "masked in the notice"
    assert billing_client(folder, me)["email"] == me.email, "nothing written while cooling off"
    written, by_hand = changes(case)[0].targets
    assert (written.state, by_hand.state) == ("pending", "manual")
    page = f"/console/requests/{case.reference}"
    early = desk.post(f"{page}/targets/{by_hand.id}/done", data={
        "note": "Changed in the helpdesk.", "csrf_token": csrf_token(desk, page)})
    assert early.status_code == 409, "not even by hand during the cooling-off"

    runner = company_app.test_cli_runner()
    assert "Wrote 0 pending" in runner.invoke(args=["corrections", "apply-due"]).output
    db.session.execute(update(ProposedChange).where(ProposedChange.id == change.id)
                       .values(apply_after=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    assert "Wrote 1 pending" in runner.invoke(args=["corrections", "apply-due"]).output
    assert billing_client(folder, me)["email"] == new
    assert changes(case)[0].targets[0].state == "confirmed", "read back by the new address"
    assert changes(case)[0].state == "approved", "the helpdesk is still to do by hand"
    started = company_app.test_client().get(link(notice))
    assert started.status_code == 410, "once written somewhere, only staff can undo it"

    desk.post(f"{page}/targets/{by_hand.id}/done", data={
        "note": "Changed in the helpdesk.", "csrf_token": csrf_token(desk, page)})
    assert state(case) == "applied"


def test_the_old_address_can_stop_an_email_change(
    company_app: Flask, people, company_copy
) -> None:
    folder, _ = company_copy
    me = people[10]
    case = confirmed(company_app.test_client(), me,
                     {"category": "email", "proposed": "someone@else.example"})
    staff_acts(company_app, case.reference, "start_collection")
    [change] = changes(case)
    decide(staff(company_app), case, change, "approve",
           targets=[found(case, "billing", "email").id])
    staff_acts(company_app, case.reference, "decide")
    assert state(case) == "applying", "waiting out the cooling-off"

    owner = company_app.test_client()
    stop = link(mails("email-change")[-1])
    assert "Stop the change" in owner.get(stop).get_data(as_text=True)
    assert "The change is stopped" in press(owner, stop).get_data(as_text=True)
    assert changes(case)[0].state == "withdrawn"
    assert owner.get(stop).status_code == 410, "a stop link works once"
    assert "change.withdrawn" in [e.action for e in audit.events_for(case.id)]

    assert state(case) == "closed", "nothing left to make"
    assert mails("applied") == [], "no word of corrections that were not made"
    assert "Wrote 0 pending" in company_app.test_cli_runner().invoke(
        args=["corrections", "apply-due"]).output
    assert billing_client(folder, me)["email"] == me.email


def test_a_change_made_by_hand_is_ticked_off_with_a_note(
    company_app: Flask, in_review
) -> None:
    case, _ = in_review
    phone, firm = changes(case)
    desk = staff(company_app)
    decide(desk, case, phone, "approve", elsewhere="y")
    decide(desk, case, firm, "reject", reason=REASON)
    staff_acts(company_app, case.reference, "decide")
    [task] = changes(case)[0].targets
    assert task.state == "manual" and state(case) == "applying"

    page = f"/console/requests/{case.reference}"
    url = f"{page}/targets/{task.id}/done"
    empty = desk.post(url, data={"note": "", "csrf_token": csrf_token(desk, page)})
    assert empty.status_code == 400 and "Say what you did" in empty.get_data(as_text=True)
    desk.post(url, data={"note": "Changed in the phone system's contact list.",
                         "csrf_token": csrf_token(desk, page)})
    db.session.expire_all()
    assert db.session.get(ChangeTarget, task.id).state == "done"
    assert state(case) == "applied"
    assert mails("rectification") == [], "nothing was corrected in a source with recipients"


def test_the_subject_adds_a_statement_to_a_rejected_change(
    company_app: Flask, in_review
) -> None:
    case, _ = in_review
    phone, firm = changes(case)
    desk = staff(company_app)
    decide(desk, case, phone, "reject", reason=REASON)
    decide(desk, case, firm, "reject", reason=REASON)
    staff_acts(company_app, case.reference, "decide")

    subject = company_app.test_client()
    press(subject, link(mails("decisions")[-1]))
    page = f"/my/requests/{case.reference}/changes"
    empty = subject.post(page, data={"change": str(firm.id), "statement": "",
                                     "csrf_token": csrf_token(subject, page)})
    assert empty.status_code == 400 and "Write your statement first" in empty.get_data(
        as_text=True)
    statement = "The company is a GmbH since May; the extract is on its way."
    subject.post(page, data={"change": str(firm.id), "statement": statement,
                             "csrf_token": csrf_token(subject, page)})
    assert changes(case)[1].statement == statement
    again = subject.post(page, data={"change": str(firm.id), "statement": "Another.",
                                     "csrf_token": csrf_token(subject, page)})
    assert again.status_code == 409 and changes(case)[1].statement == statement
    for tampered in ("²", "99999999999999999999", str(phone.id + 1000)):
        wrong = subject.post(page, data={"change": tampered, "statement": "x",
                                         "csrf_token": csrf_token(subject, page)})
        assert wrong.status_code == 404, tampered
    assert statement in desk.get(f"/console/requests/{case.reference}").get_data(as_text=True)
    assert "change.statement_added" in [e.action for e in audit.events_for(case.id)]


def test_a_request_rejected_as_a_whole_says_so_beside_its_changes(
    company_app: Flask, in_review
) -> None:
    case, me = in_review
    staff_acts(company_app, case.reference, "reject", reason=REASON)
    subject = company_app.test_client()
    subject.post("/my/sign-in", data={"email": me.email,
                                      "csrf_token": csrf_token(subject, "/my/sign-in")})
    press(subject, link(mails("sign-in")[-1]))
    page = subject.get(f"/my/requests/{case.reference}/changes").get_data(as_text=True)
    assert "could not grant this request as a whole" in page and REASON in page
    assert "Waiting for our decision" not in page
    assert {(c.state, c.decision_reason) for c in changes(case)} == {("rejected", REASON)}


def test_ids_in_console_addresses_that_fit_no_row_are_not_found(
    company_app: Flask, in_review
) -> None:
    case, _ = in_review
    desk = staff(company_app)
    page = f"/console/requests/{case.reference}"
    for path in ("changes/99999999999999999999/approve", "targets/4294967296/retry",
                 "changes/123456/reject"):
        response = desk.post(f"{page}/{path}", data={"csrf_token": csrf_token(desk, page)})
        assert response.status_code == 404, path


def test_a_write_whose_writer_died_is_offered_again_and_read_back_not_written_twice(
    company_app: Flask, in_review, whmcs_server, company_copy
) -> None:
    case, me = in_review
    folder, _ = company_copy
    phone, firm = changes(case)
    desk = staff(company_app)
    decide(desk, case, phone, "approve", targets=[found(case, "billing", "phonenumber").id])
    decide(desk, case, firm, "reject", reason="We hold the company name as registered.")
    staff_acts(company_app, case.reference, "decide")
    assert state(case) == "applied" and billing_client(folder, me)["phonenumber"] == NEW_PHONE
    # As a consumer that died after billing took the write and before it recorded anything
    # would leave it: the target still "writing", long past its lease.
    [target] = phone.targets
    stale = utcnow() - timedelta(seconds=company_app.config["JOB_LEASE_SECONDS"] + 60)
    db.session.execute(update(ChangeTarget).where(ChangeTarget.id == target.id)
                       .values(state="writing", updated_at=stale))
    db.session.execute(update(ProposedChange).where(ProposedChange.id == phone.id)
                       .values(state="approved"))
    db.session.execute(update(Request).where(Request.id == case.id).values(state="applying"))
    db.session.commit()
    writes = whmcs_server.app.config["CALLS"]["UpdateClient"]

    page = desk.get(f"/console/requests/{case.reference}").get_data(as_text=True)
    assert "Write to billing again" in page
    url = f"/console/requests/{case.reference}/targets/{target.id}/retry"
    desk.post(url, data={"csrf_token": csrf_token(desk, f"/console/requests/{case.reference}")})
    db.session.expire_all()
    assert db.session.get(ChangeTarget, target.id).state == "confirmed"
    assert whmcs_server.app.config["CALLS"]["UpdateClient"] == writes, "read back, not written"
    assert state(case) == "applied"
