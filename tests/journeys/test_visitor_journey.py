"""A visitor who never was a customer asks what the website analytics holds on them: from
the browser the demo company's website left its cookie in, they get their own visits; with
an address others used too, nothing from it, and the answer says what would identify them."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dsr.adapters.matomo import SHARED_CLAIM
from dsr.demo import company
from dsr.extensions import db
from dsr.models import Request
from tests.fixtures.company import visits_of
from tests.fixtures.people import csrf_token, link, mails, make_user, press, staff_acts

TODAY = datetime.now(UTC).date()


def ask_as_visitor(client: FlaskClient, **fields: str) -> Request:
    """Ask as the demo visitor, confirm through the mailed link; return the request."""
    page = "/requests/new"
    response = client.post(page, data={
        "type": "access", "email": company.VISITOR_EMAIL, "name": "Mila Besucher",
        "csrf_token": csrf_token(client, page)} | fields)
    assert response.status_code == 302, response.get_data(as_text=True)
    press(client, link(mails("verification")[-1]))
    return db.session.execute(select(Request).where(
        Request.requester_email == company.VISITOR_EMAIL)).scalars().all()[-1]


def answer(app: Flask, client: FlaskClient, case: Request) -> tuple[dict, str]:
    """Staff collect, approve and release; the visitor reads the answer (JSON and page)."""
    staff_acts(app, case.reference, "start_collection", "approve", "release")
    press(client, link(mails("ready")[-1]))
    report = json.loads(client.get(f"/my/requests/{case.reference}/report.json").data)
    return report, client.get(f"/my/requests/{case.reference}/report").get_data(as_text=True)


def analytics_visits(report: dict) -> list[dict]:
    return [f for f in report["findings"]
            if f["source"] == "analytics" and f["category"] == "visit"]


@pytest.fixture
def visitor(company_app: Flask, matomo_server) -> FlaskClient:
    """The demo visitor's browser, after the company's website left its analytics cookie."""
    make_user("staff@example.org", "staff")
    website = requests.get(f"{matomo_server.url}/website", timeout=5)
    [(name, value)] = website.cookies.items()
    assert name.startswith("_pk_id.1.") and value.startswith(company.VISITOR_ID)
    client = company_app.test_client()
    client.set_cookie(name, value)
    return client


def test_the_visitor_gets_their_own_visits_through_their_browsers_visitor_id(
    company_app: Flask, visitor: FlaskClient, company_copy
) -> None:
    folder, people = company_copy
    shown = visitor.get("/requests/new").get_data(as_text=True)
    assert f"<code>{company.VISITOR_ID}</code>" in shown
    report, page = answer(company_app, visitor, ask_as_visitor(visitor))
    visits = analytics_visits(report)
    assert len(visits) == company.VISITOR_HOME_VISITS + company.VISITOR_CAFE_VISITS
    assert {v["context"]["visitor ID"] for v in visits} == {company.VISITOR_ID}
    assert all(v["context"]["browser"] == "Firefox 132.0" for v in visits)
    analytics = next(s for s in report["systems"] if s["name"] == "analytics")
    assert [k["key"] for k in analytics["searched_with"]] == ["visitor_ids"]
    assert report["identification"] == []
    text = json.dumps(report)
    assert not [c.email for c in people if c.email in text]
    assert "None of our systems holds" not in page
    assert company.VISITOR_ID in page and "What would let us find more" not in page
    assert visits_of(folder, people[0])  # the customers' visits exist, and none is here
    assert not [v for v in visits if v["context"].get("user ID")]


def test_an_address_shared_with_other_browsers_releases_nothing_and_says_what_would(
    company_app: Flask, company_copy
) -> None:
    make_user("staff@example.org", "staff")
    browser = company_app.test_client()  # another browser: no analytics cookie
    case = ask_as_visitor(browser, visit_ip=company.CAFE_IP,
                          visits_from=(TODAY - timedelta(days=390)).isoformat(),
                          visits_to=TODAY.isoformat())
    report, page = answer(company_app, browser, case)
    assert analytics_visits(report) == []
    assert report["identification"] == [SHARED_CLAIM]
    assert "What would let us find more" in page and "GDPR Art. 11(2)" in page
    assert "ask again from the browser you visited our websites with" in page
    assert "None of our systems holds" not in page
    assert company.CAFE_IP not in json.dumps(report)
