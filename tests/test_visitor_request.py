"""The part of the request page for visitors who are not customers: the IP address and days
of their visits, checked at their fields, and the analytics visitor ID taken only as the
requester's own browser presents it; both kept on the request and nowhere else."""

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dsr import audit
from dsr.adapters import ClaimedIp, SubjectIdentity
from dsr.collection import subject_of
from dsr.demo import company
from dsr.extensions import db
from dsr.models import OutboxMessage, Request
from tests.fixtures.people import csrf_token

COOKIE = "_pk_id.1.1fff"
TODAY = datetime.now(UTC).date()


def ask(client: FlaskClient, **fields: str):
    data = {"type": "access", "email": "mila@example.net", "name": "Mila Besucher",
            "csrf_token": csrf_token(client, "/requests/new")} | fields
    return client.post("/requests/new", data=data)


def the_request() -> Request:
    db.session.expire_all()
    return db.session.execute(select(Request)).scalar_one()


def days_ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"visit_ip": "203.0.113.300", "visits_from": days_ago(30), "visits_to": days_ago(2)},
     "visit_ip", "That is not an IP address"),
    ({"visit_ip": "203.0.113.7", "visits_from": days_ago(2), "visits_to": days_ago(30)},
     "visits_to", "The last day is before the first day."),
    ({"visit_ip": "203.0.113.7", "visits_from": days_ago(2), "visits_to": days_ago(-3)},
     "visits_to", "That day has not come yet."),
    ({"visit_ip": "203.0.113.7", "visits_from": days_ago(800), "visits_to": days_ago(2)},
     "visits_from", "Our analytics keeps visits for 396 days: the earliest day we can "
                    f"search is {days_ago(396)}."),
    ({"visit_ip": "203.0.113.7", "visits_from": "31/05/2026", "visits_to": days_ago(2)},
     "visits_from", "Write the day as YYYY-MM-DD"),
    ({"visit_ip": "203.0.113.7", "visits_from": days_ago(9), "visits_to": ""},
     "visits_to", "Enter the last day of your visits from this address"),
    ({"visit_ip": "", "visits_from": days_ago(9), "visits_to": days_ago(2)},
     "visit_ip", "Enter the IP address these days are for."),
])
def test_a_wrong_address_or_day_gets_a_message_at_its_field_and_keeps_what_was_typed(
    app: Flask, client: FlaskClient, fields: dict[str, str], field: str, message: str
) -> None:
    response = ask(client, message="My visits, please.", **fields)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    error = page.split(f'id="{field}-error">', 1)
    assert len(error) == 2 and error[1].startswith(message), f"no message at {field}"
    for typed in fields.values():
        assert f'value="{typed}"' in page or not typed
    assert 'value="mila@example.net"' in page and "My visits, please." in page
    assert db.session.execute(select(Request)).first() is None


def test_an_address_and_its_days_are_kept_on_the_request_and_nowhere_else(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    response = ask(client, visit_ip=" 2001:DB8::7 ", visits_from=days_ago(40),
                   visits_to=days_ago(3))
    assert response.status_code == 302
    case = the_request()
    assert subject_of(case) == SubjectIdentity.of("mila@example.net", claimed_ips=[ClaimedIp(
        "2001:db8::7", TODAY - timedelta(days=40), TODAY - timedelta(days=3))])
    trail = json.dumps([e.details for e in audit.events_for(case.id)])
    mail = " ".join(m.body for m in db.session.execute(select(OutboxMessage)).scalars())
    assert "2001:db8::7" not in trail and "2001:db8::7" not in mail
    assert "2001:db8::7" not in caplog.text.lower()
    assert "2001:db8::7" not in response.headers["Location"].lower()


def test_the_visitor_id_the_browser_presents_is_shown_and_searched(
    app: Flask, client: FlaskClient
) -> None:
    client.set_cookie(COOKIE, f"{company.VISITOR_ID}.1767225600.")
    page = client.get("/requests/new").get_data(as_text=True)
    assert f"This browser carries our analytics visitor ID <code>{company.VISITOR_ID}</code>" \
        in page
    assert "Leave this browser&#39;s analytics ID out" in page
    assert ask(client).status_code == 302
    assert subject_of(the_request()).visitor_ids == {company.VISITOR_ID}


def test_a_requester_may_leave_their_browsers_visitor_id_out(
    app: Flask, client: FlaskClient
) -> None:
    client.set_cookie(COOKIE, f"{company.VISITOR_ID}.1767225600.")
    assert ask(client, leave_out_visitor_id="y").status_code == 302
    assert the_request().visitor_identifiers is None
    assert subject_of(the_request()) == SubjectIdentity.of("mila@example.net")


@pytest.mark.parametrize("cookies", [
    {}, {COOKIE: "not-a-visitor-id.1767225600"}, {"_pk_ses.1.1fff": "1"},
    {"pk_id_typed": f"{company.VISITOR_ID}.1767225600"},
])
def test_a_visitor_id_typed_or_malformed_is_not_taken(
    app: Flask, client: FlaskClient, cookies: dict[str, str]
) -> None:
    for name, value in cookies.items():
        client.set_cookie(name, value)
    page = client.get("/requests/new").get_data(as_text=True)
    assert "This browser carries no analytics visitor ID of ours" in page
    response = ask(client, visitor_id=company.VISITOR_ID, visitor_ids=company.VISITOR_ID,
                   idvisitor=company.VISITOR_ID)
    assert response.status_code == 302
    assert the_request().visitor_identifiers is None
    assert subject_of(the_request()).visitor_ids == frozenset()


def test_a_customer_leaves_the_visitor_part_empty_and_nothing_changes(
    app: Flask, client: FlaskClient
) -> None:
    assert ask(client, visit_ip="", visits_from="", visits_to="").status_code == 302
    assert the_request().visitor_identifiers is None
