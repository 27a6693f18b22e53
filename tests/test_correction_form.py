"""The public correction form and the API's correction requests: each proposed value checked
by its library with a message at its field, nothing typed lost, and a confirmation link to the
address on file."""

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dsr.extensions import db
from dsr.models import ProposedChange, Request
from tests.fixtures.people import csrf_token, mails

URL = "/corrections/new"


def post(client: FlaskClient, *changes: dict[str, str], button: str = "send", **fields: str):
    data = {"email": "ana.lima@example.com", "name": "Ana Lima", button: "x",
            "csrf_token": csrf_token(client, URL), **fields}
    for number, change in enumerate(changes):
        data |= {f"changes-{number}-{key}": value for key, value in change.items()}
    return client.post(URL, data=data)


def value_of(page: str, name: str) -> str:
    tag = re.search(rf'<(?:input|textarea)[^>]*name="{re.escape(name)}"[^>]*>([^<]*)', page)
    assert tag, name
    typed = re.search(r'value="([^"]*)"', tag.group(0))
    return typed.group(1) if typed else tag.group(1)


@pytest.mark.parametrize(
    ("category", "typed", "message"),
    [
        ("email", "ana.lima@", "That is not a valid e-mail address"),
        ("phone", "call me maybe", "That is not a telephone number"),
        ("bank_details", "DE89370400440532013001", "That is not a valid IBAN"),
        ("id_details", "DE123456789", "That is not a valid EU VAT number"),
        ("name", "   ", "Enter the correct value."),
        ("address", "x" * 201, "Use at most 200 ordinary characters."),
        ("company", "", "Enter the correct value."),
        ("ip", "192.0.2.1", "Choose one of the kinds of information listed."),
    ],
)
def test_a_wrong_value_is_refused_at_its_field_and_nothing_typed_is_lost(
    client: FlaskClient, category: str, typed: str, message: str
) -> None:
    response = post(client, {"category": "name", "proposed": "Ana Lima-Santos",
                             "why": "I married."},
                    {"category": category, "proposed": typed, "note": "See my ID card."},
                    message="Thank you.")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert value_of(page, "changes-0-proposed") == "Ana Lima-Santos"
    assert "I married." in page and "See my ID card." in page and "Thank you." in page
    assert value_of(page, "email") == "ana.lima@example.com"
    assert db.session.execute(select(Request)).first() is None


def test_another_change_is_added_without_losing_the_first(client: FlaskClient) -> None:
    page = post(client, {"category": "phone", "proposed": "030 1234567"},
                button="add").get_data(as_text=True)
    assert value_of(page, "changes-0-proposed") == "030 1234567"
    assert 'name="changes-1-proposed"' in page


def test_a_correction_is_opened_with_its_changes_and_confirmed_through_the_address_on_file(
    client: FlaskClient
) -> None:
    response = post(client,
                    {"category": "phone", "proposed": "030 1234567", "current": "030 7654321"},
                    {"category": "bank_details", "proposed": "de89370400440532013000"},
                    {"category": "", "proposed": ""})  # an "Add another" left empty
    assert response.status_code == 302
    case = db.session.execute(select(Request)).scalar_one()
    assert (case.type, case.state) == ("correction", "submitted")
    stored = db.session.execute(select(ProposedChange.category, ProposedChange.proposed_value)
                                .order_by(ProposedChange.id)).all()
    assert stored == [("phone", "+49 30 1234567"), ("bank_details", "DE89 3704 0044 0532 0130 00")]
    [verification] = mails("verification")
    assert verification.to_address == "ana.lima@example.com"
    assert "replacing this e-mail address" not in verification.body


def test_an_email_change_must_name_a_new_address(client: FlaskClient) -> None:
    response = post(client, {"category": "email", "proposed": "Ana.Lima@example.com"})
    assert response.status_code == 400
    assert "That is the address we already have." in response.get_data(as_text=True)


def test_choosing_correction_on_the_request_page_carries_what_was_typed(
    client: FlaskClient
) -> None:
    response = client.post("/requests/new", data={
        "type": "correction", "email": "ana.lima@example.com", "name": "Ana Lima",
        "message": "My phone changed.", "csrf_token": csrf_token(client, "/requests/new")})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Ask for a correction" in page
    assert value_of(page, "email") == "ana.lima@example.com"
    assert "My phone changed." in page
    assert db.session.execute(select(Request)).first() is None


def test_the_api_takes_a_correction_with_its_changes(app: Flask) -> None:
    api = app.test_client()
    body = {"type": "correction", "email": "ana.lima@example.com", "name": "Ana Lima",
            "changes": [{"category": "phone", "proposed": "030 1234567", "why": "New number"}]}
    response = api.post("/api/v1/requests", json=body)
    assert response.status_code == 202
    [change] = db.session.execute(select(ProposedChange)).scalars()
    assert (change.proposed_value, change.why) == ("+49 30 1234567", "New number")


@pytest.mark.parametrize(
    ("changes", "message", "status"),
    [
        # Malformed, as the OpenAPI document says: 400.
        ([], "a correction request names at least one change", 400),
        ([{"category": "visit", "proposed": "x"}], "changes.0.category", 400),
        # As the document describes, but not a value of its kind: 422.
        ([{"category": "bank_details", "proposed": "DE00"}], "That is not a valid IBAN", 422),
        ([{"category": "email", "proposed": "ana.lima@example.com"}], "must name a new address",
         422),
    ],
)
def test_the_api_refuses_a_correction_it_cannot_take(
    app: Flask, changes: list[dict[str, str]], message: str, status: int
) -> None:
    response = app.test_client().post("/api/v1/requests", json={
        "type": "correction", "email": "ana.lima@example.com", "name": "Ana Lima",
        "changes": changes})
    assert response.status_code == status
    assert message in response.get_json()["error"]["message"]
    assert db.session.execute(select(Request)).first() is None
