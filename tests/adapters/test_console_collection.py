"""Staff start a collection from the console and watch each source: what it found, what
failed and why, a retry of one source, ID and bank details masked until revealed."""

import re

from flask import Flask

from dsr import audit
from dsr.demo import company
from dsr.extensions import db
from dsr.models import Request
from tests.factories import make_request
from tests.fixtures.people import csrf_token, make_user, sign_in


def staff(app: Flask):
    make_user("staff@example.org", "staff")
    client = app.test_client()
    assert sign_in(client, "staff@example.org").status_code == 302
    return client


def post(client, case: Request, action: str):
    page = f"/console/requests/{case.reference}"
    return client.post(f"{page}/{action}", data={"csrf_token": csrf_token(client, page)})


def act(client, case: Request, trigger: str):
    page = client.get(f"/console/requests/{case.reference}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    return client.post(f"/console/requests/{case.reference}/transitions", data={
        "trigger": trigger, "version": version,
        "csrf_token": csrf_token(client, f"/console/requests/{case.reference}")})


def test_start_collection_asks_every_source_and_moves_on_to_review(
    company_app: Flask, company_copy
) -> None:
    _, people = company_copy
    me = people[company.SHARED_IP_B - 1]
    case = make_request("access", "verified", email=me.email, name=f"{me.first} {me.last}")
    client = staff(company_app)

    response = act(client, case, "start_collection")
    page = client.get(response.headers["Location"]).get_data(as_text=True)

    db.session.expire_all()
    assert db.session.get(Request, case.id).state == "in_review"
    for source in ("billing", "analytics", "helpdesk", "chats"):
        assert f"<td>{source}</td>" in page
    assert page.count(">done</span>") == 5, "the four systems and dsr's own records"
    assert me.phone in page and "Website visits" in page
    assert "an IP address of this subject was also used by other accounts" in page


def test_a_failed_source_shows_its_error_and_is_asked_again_alone(
    company_app: Flask, company_copy, kayako_server
) -> None:
    _, people = company_copy
    me = people[0]
    case = make_request("access", "verified", email=me.email)
    client = staff(company_app)
    kayako_server.app.config["MALFORMED"] = True

    act(client, case, "start_collection")
    page = client.get(f"/console/requests/{case.reference}").get_data(as_text=True)
    assert "helpdesk: the reply to /Base/UserSearch was not valid XML." in page
    assert "Ask helpdesk again" in page
    db.session.expire_all()
    assert db.session.get(Request, case.id).state == "collecting"

    kayako_server.app.config["MALFORMED"] = False
    retry = post(client, case, "sources/helpdesk/retry")
    assert retry.status_code == 302
    db.session.expire_all()
    assert db.session.get(Request, case.id).state == "in_review"
    starts = [e.details["sources"] for e in audit.events_for(case.id)
              if e.action == "collection.started"]
    assert starts == [["analytics", "billing", "chats", "dsr", "helpdesk"], ["helpdesk"]]


def test_id_details_are_masked_until_revealed_and_the_reveal_is_audited(
    company_app: Flask, company_copy
) -> None:
    import sqlite3

    folder, people = company_copy
    me, tax_id = sqlite3.connect(folder / "billing.sqlite").execute(
        "SELECT id, tax_id FROM tblclients WHERE tax_id != '' ORDER BY id LIMIT 1").fetchone()
    customer = people[me - 1]
    case = make_request("access", "verified", email=customer.email)
    client = staff(company_app)
    act(client, case, "start_collection")
    page = client.get(f"/console/requests/{case.reference}").get_data(as_text=True)
    assert "ID details" in page and tax_id not in page and tax_id[-4:] in page
    assert "Reveal them" in page

    assert post(client, case, "reveal").status_code == 302
    page = client.get(f"/console/requests/{case.reference}").get_data(as_text=True)
    assert tax_id in page and "Reveal them" not in page
    reveals = [e for e in audit.events_for(case.id) if e.action == "findings.revealed"]
    assert len(reveals) == 1 and reveals[0].details == {}
