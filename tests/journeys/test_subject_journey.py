"""A subject's whole journey against the demo company's systems: ask, confirm, wait while
staff collect and release, sign in through a mailed link, read and download the answer; and
every way that can be refused."""

import json
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dsr import audit
from dsr.database import utcnow
from dsr.demo import company
from dsr.extensions import db
from dsr.models import Request
from tests.fixtures.people import (
    confirmed_request,
    csrf_token,
    link,
    mails,
    make_user,
    press,
    sign_in,
    staff_acts,
)


@pytest.fixture
def journey(company_app: Flask, company_copy):
    make_user("staff@example.org", "staff")
    _, people = company_copy
    me = people[company.MENTIONING - 1]
    subject = company_app.test_client()
    case = confirmed_request(subject, me)
    staff_acts(company_app, case.reference, "start_collection", "approve", "release")
    return subject, me, case


def test_the_released_answer_holds_all_three_systems_and_nobody_else(journey, company_copy
                                                                     ) -> None:
    subject, me, case = journey
    _, people = company_copy
    [ready] = mails("ready")
    assert ready.to_address == me.email and ready.subject == "Your answer is ready"
    assert me.phone not in ready.body and "ready" in ready.body, "no data in the e-mail"

    response = press(subject, link(ready))
    assert response.headers["Location"] == "/my/"
    status = subject.get("/my/").get_data(as_text=True)
    assert case.reference in status and "Your answer is ready below." in status

    answer = subject.get(f"/my/requests/{case.reference}/report.json")
    assert answer.headers["Content-Disposition"] == \
        f'attachment; filename="cloudtoko-answer-{case.reference}.json"'
    report = json.loads(answer.data)
    sources = {f["source"] for f in report["findings"]}
    assert {"billing", "analytics", "helpdesk", "dsr"} <= sources
    text = answer.get_data(as_text=True)
    others = [c for c in people if c.id != me.id]
    assert not [c.email for c in others if c.email in text]
    assert not [c.phone for c in others if c.phone in text]
    assert {s["name"] for s in report["systems"]} == {"analytics", "billing", "chats", "dsr",
                                                       "helpdesk"}
    assert report["summary"]["findings"] == len(report["findings"]) > 0
    assert report["automated_decision_making"].startswith("None")

    page = subject.get(f"/my/requests/{case.reference}/report").get_data(as_text=True)
    assert "Transfer domain to a colleague" in page and "Your rights" in page
    assert "In short" in page and "Helpdesk (Kayako)" in page
    csv_text = subject.get(f"/my/requests/{case.reference}/report.csv").get_data(as_text=True)
    assert csv_text.startswith("category,what,value,system,date,details,purposes,legal basis")
    assert me.email in csv_text and "None outside the EEA." in csv_text, "with its facts"

    seen = [(e.action, e.details.get("code")) for e in audit.events_for(case.id)
            if e.action.startswith("report.")]
    assert seen == [("report.downloaded", "json"), ("report.viewed", "html"),
                    ("report.downloaded", "csv")]


def test_a_sign_in_link_works_once(journey) -> None:
    subject, _, _ = journey
    url = link(mails("ready")[0])
    press(subject, url)
    assert subject.get(url).status_code == 410


def test_another_subjects_answer_is_not_found(journey, company_app: Flask, company_copy
                                              ) -> None:
    _, people = company_copy
    _, _, case = journey
    other = people[0]
    stranger = company_app.test_client()
    confirmed_request(stranger, other)
    stranger.post("/my/sign-in", data={"email": other.email,
                                       "csrf_token": csrf_token(stranger, "/my/sign-in")})
    press(stranger, link(mails("sign-in")[-1]))
    response = stranger.get(f"/my/requests/{case.reference}/report.json")
    assert response.status_code == 404
    assert case.reference not in stranger.get("/my/").get_data(as_text=True)


def test_without_a_session_the_pages_send_you_to_sign_in(journey, company_app: Flask) -> None:
    _, _, case = journey
    anonymous = company_app.test_client()
    response = anonymous.get(f"/my/requests/{case.reference}/report.json")
    assert (response.status_code, response.headers["Location"]) == (302, "/my/sign-in")


def test_asking_for_a_sign_in_link_answers_the_same_for_any_address(company_app: Flask) -> None:
    client = company_app.test_client()
    pages = [client.post("/my/sign-in", data={"email": address,
                                              "csrf_token": csrf_token(client, "/my/sign-in")})
             for address in ("unknown@example.net", "also-unknown@example.org")]
    assert pages[0].get_data() == pages[1].get_data()
    assert mails("sign-in") == [], "no sign-in link for an address without a request"
    told = mails("sign-in-unknown")
    assert [m.to_address for m in told] == ["unknown@example.net", "also-unknown@example.org"]
    assert "We have no confirmed request from it" in told[0].body
    assert "/my/session/" not in told[0].body and "http://127.0.0.1:5000/requests/new" \
        in told[0].body


def test_an_unreleased_answer_cannot_be_read(company_app: Flask, company_copy) -> None:
    make_user("staff@example.org", "staff")
    _, people = company_copy
    subject = company_app.test_client()
    case = confirmed_request(subject, people[1])
    subject.post("/my/sign-in", data={"email": people[1].email,
                                      "csrf_token": csrf_token(subject, "/my/sign-in")})
    press(subject, link(mails("sign-in")[-1]))
    response = subject.get(f"/my/requests/{case.reference}/report")
    assert response.status_code == 410


def test_the_answer_can_be_read_for_a_limited_time(journey) -> None:
    subject, _, case = journey
    press(subject, link(mails("ready")[0]))
    stored = db.session.get(Request, case.id)
    stored.released_at = utcnow() - timedelta(days=31)
    db.session.commit()
    assert subject.get(f"/my/requests/{case.reference}/report.json").status_code == 410


def test_a_rejection_tells_the_reason_and_the_right_to_complain(company_app: Flask,
                                                                company_copy) -> None:
    make_user("staff@example.org", "staff")
    _, people = company_copy
    case = confirmed_request(company_app.test_client(), people[1])
    staff_acts(company_app, case.reference, "reject",
               reason="The same request was answered in full last week.")
    [notice] = mails("rejected")
    assert "The same request was answered in full last week." in notice.body
    assert "supervisory authority" in notice.body and "judicial remedy" in notice.body


def test_an_extension_tells_the_reason_and_the_new_date(company_app: Flask, company_copy
                                                        ) -> None:
    make_user("staff@example.org", "staff")
    _, people = company_copy
    case = confirmed_request(company_app.test_client(), people[1])
    staff_acts(company_app, case.reference, "extend", reason="Three archives to search.")
    [notice] = mails("extended")
    db.session.expire_all()
    due = db.session.get(Request, case.id).due_at.strftime("%d %B %Y")
    assert "Three archives to search." in notice.body and due in notice.body


def test_two_presses_of_one_sign_in_link_sign_in_once(journey, company_app: Flask) -> None:
    import threading

    url = link(mails("ready")[0])
    browsers = [company_app.test_client() for _ in range(2)]
    tokens = [csrf_token(b, url) for b in browsers]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def press_now(browser: FlaskClient, token: str) -> None:
        barrier.wait()
        statuses.append(browser.post(url, data={"csrf_token": token}).status_code)

    threads = [threading.Thread(target=press_now, args=pair)
               for pair in zip(browsers, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [302, 410]


def test_the_answer_stays_as_released_when_the_sources_change(journey, company_app: Flask
                                                               ) -> None:
    """The released answer keeps what was found and what the register said then: a source
    taken out of the configuration afterwards changes neither its systems nor its findings."""
    subject, me, case = journey
    press(subject, link(mails("ready")[0]))
    before = subject.get(f"/my/requests/{case.reference}/report.json").json
    sources = company_app.extensions["dsr.sources"]
    name = next(system["name"] for system in before["systems"] if system["found"])
    taken = sources.pop(name)
    try:
        after = subject.get(f"/my/requests/{case.reference}/report.json").json
    finally:
        sources[name] = taken
    assert after == before and me.email in json.dumps(after)


def test_staff_withhold_on_a_ground_the_answer_gives(company_app: Flask, company_copy) -> None:
    from html import unescape

    from dsr.models import FoundItem

    make_user("staff@example.org", "staff")
    _, people = company_copy
    me, other = people[company.MENTIONING - 1], people[company.MENTIONED - 1]
    subject = company_app.test_client()
    case = confirmed_request(subject, me)
    staff_acts(company_app, case.reference, "start_collection")
    ticket, chat = (db.session.execute(select(FoundItem).where(
        FoundItem.request_id == case.id, FoundItem.value == value)).scalar_one()
        for value in ("Transfer domain to a colleague", "Access for a colleague"))

    staff = company_app.test_client()
    sign_in(staff, "staff@example.org")
    page = f"/console/requests/{case.reference}"
    for item, ground in ((ticket, "another_person"), (chat, "legal_privilege")):
        response = staff.post(f"{page}/findings/{item.id}/withhold", data={
            f"item{item.id}-ground": ground, f"item{item.id}-note": "Asked legal first",
            f"item{item.id}-csrf_token": csrf_token(staff, page)})
        assert response.status_code == 302
    staff_acts(company_app, case.reference, "approve", "release")

    press(subject, link(mails("ready")[0]))
    answer = subject.get(f"/my/requests/{case.reference}/report.json")
    assert other.last not in answer.get_data(as_text=True)
    assert "Asked legal first" not in answer.get_data(as_text=True)
    assert [(w["ground"], w["count"]) for w in answer.json["withheld"]] == [
        ("another_person", 1), ("legal_privilege", 1)]
    shown = unescape(subject.get(f"/my/requests/{case.reference}/report").get_data(as_text=True))
    assert "2 items were left out: 1 because it would reveal another person's personal " \
        "information (Art. 15(4)) and 1 because it is covered by legal privilege." in shown
    withheld = [e for e in audit.events_for(case.id) if e.action == "finding.withhold"]
    assert [e.details for e in withheld] == [{"finding": ticket.id, "ground": "another_person"},
                                             {"finding": chat.id, "ground": "legal_privilege"}]


def test_this_is_wrong_in_the_answer_proposes_a_change_to_that_record(
    journey, company_app: Flask
) -> None:
    subject, me, case = journey
    press(subject, link(mails("ready")[0]))
    report = subject.get(f"/my/requests/{case.reference}/report").get_data(as_text=True)
    billing = report[report.index('id="system-billing"'):]
    billing = billing[:billing.index("</section>")]
    row = re.search(rf"<dt>Telephone</dt><dd><span class=\"value\">{re.escape(me.phone)}</span>"
                    r".*?href=\"([^\"]+)\">This is wrong", billing, re.S)
    assert row, "a 'This is wrong' link beside the billing telephone"
    url = row.group(1).replace("&amp;", "&")
    assert me.phone.replace(" ", "") not in url.replace("+", "").replace("%20", ""), \
        "the link names a position, never the value"

    form = subject.get(url).get_data(as_text=True)
    assert f'value="{me.phone}"' in form and "billing: Telephone" in form
    response = subject.post("/my/corrections/new", data={
        "changes-0-category": "phone", "changes-0-current": me.phone,
        "changes-0-record": "billing: Telephone", "changes-0-proposed": "030 90182600",
        "send": "x", "csrf_token": csrf_token(subject, url)})
    assert response.status_code == 302, "a signed-in subject's address is already proved"
    correction = db.session.execute(select(Request).where(
        Request.type == "correction")).scalar_one()
    assert correction.state == "verified" and correction.requester_email == me.email
    assert not [m for m in mails("verification") if m.request_id == correction.id], \
        "no second confirmation"
    assert subject.get(f"/my/corrections/new?from={case.reference}&item=²").status_code == 200

    staff_acts(company_app, correction.reference, "start_collection")
    staff = company_app.test_client()
    sign_in(staff, "staff@example.org")
    page = staff.get(f"/console/requests/{correction.reference}").get_data(as_text=True)
    ticked = re.findall(r'<input type="checkbox" name="targets" value="\d+" checked> ([^<]+)',
                        page)
    assert ticked == [f"billing · Telephone: {me.phone}"], "only the record pointed at"


def test_a_signed_in_subject_changing_their_address_confirms_it_by_mail(journey) -> None:
    subject, me, _ = journey
    press(subject, link(mails("ready")[0]))
    url = "/my/corrections/new"
    response = subject.post(url, data={
        "changes-0-category": "email", "changes-0-proposed": "new@example.net", "send": "x",
        "csrf_token": csrf_token(subject, url)})
    assert response.headers["Location"] == "/requests/sent"
    correction = db.session.execute(select(Request).where(
        Request.type == "correction")).scalar_one()
    assert correction.state == "submitted"
    [verification] = [m for m in mails("verification") if m.request_id == correction.id]
    assert verification.to_address == me.email


def test_the_answer_says_where_it_looked_and_with_what_never_that_nothing_is_held(
    journey, company_app: Flask
) -> None:
    subject, _, case = journey
    press(subject, link(mails("ready")[-1]))
    report = json.loads(subject.get(f"/my/requests/{case.reference}/report.json").data)
    searched = {s["name"]: {k["key"]: k["count"] for k in s["searched_with"]}
                for s in report["systems"]}
    assert searched["helpdesk"] == {"emails": 1}, "the helpdesk is searched by address only"
    assert searched["billing"]["emails"] == 1
    assert searched["analytics"].get("customer_ids") == 1, "by what billing knew of the account"
    page = subject.get(f"/my/requests/{case.reference}/report").get_data(as_text=True)
    assert "Where we looked, and with what" in page
    assert "searched by your e-mail address;" in page

    stranger = company_app.test_client()
    other = confirmed_request(stranger, type("Nobody", (), {
        "email": "nobody-here@example.net", "first": "No", "last": "Body"})())
    staff_acts(company_app, other.reference, "start_collection", "approve", "release")
    press(stranger, link(mails("ready")[-1]))
    page = stranger.get(f"/my/requests/{other.reference}/report").get_data(as_text=True)
    assert "None of our systems holds" not in page
    # dsr holds their request, so something is always found: the request itself.
    assert other.reference in page and "This request service (dsr)" in page
    assert "<strong>Website analytics (Matomo)</strong>: not searched" in page
    assert "We knew no customer number or IP address or analytics visitor ID or visitor IP " \
        "address of yours, so we could not search" in page
