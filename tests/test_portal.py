"""The public request page and the confirmation link: nothing happens before the subject
proves they read the address, the answer never tells whether we know an address, and a link
works once, for a while, for its own request only."""

import re
import time
from collections.abc import Iterator
from datetime import timedelta

import itsdangerous.timed
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dsr import audit
from dsr.database import utcnow
from dsr.extensions import db
from dsr.models import OutboxMessage, Request
from tests import servers
from tests.fixtures.databases import app_on
from tests.fixtures.people import csrf_token


def submit(client: FlaskClient, email: str = "rosa@example.com", **fields: str):
    token = csrf_token(client, "/requests/new")
    data = {"type": "access", "email": email, "name": "Rosa Rivera", "message": "",
            "csrf_token": token} | fields
    return client.post("/requests/new", data=data)


def link_in(message: OutboxMessage) -> str:
    found = re.search(r"http://\S+/requests/verify/\S+", message.body)
    assert found, message.body
    return found.group(0).removeprefix("http://127.0.0.1:5000")


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def test_a_request_waits_for_confirmation_and_mails_the_link(
    app: Flask, client: FlaskClient
) -> None:
    response = submit(client, message="Also my chats please.")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Check your inbox" in page
    case = db.session.execute(select(Request)).scalar_one()
    assert (case.state, case.type, case.message) == ("submitted", "access", "Also my chats please.")
    [mail] = outbox()
    assert (mail.to_address, mail.kind, mail.subject) == (
        "rosa@example.com", "verification", "Please confirm your request")
    assert "Hello Rosa Rivera" in mail.body and "/requests/verify/" in mail.body


def test_the_answer_is_the_same_for_any_address(app: Flask, client: FlaskClient) -> None:
    first = submit(client, email="a-customer@example.com")
    second = submit(client, email="nobody-we-know@example.net")
    assert (first.status_code, first.headers["Location"]) == \
        (second.status_code, second.headers["Location"])


def test_malformed_fields_get_400_with_messages_and_keep_what_was_typed(
    app: Flask, client: FlaskClient
) -> None:
    response = submit(client, email="rosa at example", name="", message="Keep me")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "That does not look like an e-mail address." in page
    assert "Enter your name." in page
    assert 'value="rosa at example"' in page and "Keep me" in page
    assert outbox() == []


def test_an_address_is_never_refused_its_mail_beyond_the_budget_comes_together(
        app: Flask, client: FlaskClient) -> None:
    statuses = [submit(client, email=email).status_code for email in (
        "Rosa@Example.com ", "rosa@example.com", "ROSA@example.com", "rosa@EXAMPLE.com",
        "Rosa@example.com")]
    assert statuses == [302] * 5
    assert [m.kind for m in outbox()] == ["verification"] * 3 + ["digest"]
    digest = outbox()[-1]
    assert digest.body.count("Please confirm your request") == 2
    assert digest.next_attempt_at > utcnow() + timedelta(minutes=59), "once the budget frees"
    assert submit(client, email="other@example.com").status_code == 302
    assert outbox()[-1].kind == "verification"


@pytest.fixture
def app_without_limit_storage(sqlite_url: str) -> Iterator[Flask]:
    """An app whose rate-limit storage (Redis) does not answer."""
    yield from app_on(sqlite_url, REQUEST_RATE_LIMIT="3 per hour",
                      RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{servers.free_port()}/0")


def test_without_the_rate_limit_storage_requests_are_taken_and_still_limited(
    app_without_limit_storage: Flask
) -> None:
    client = app_without_limit_storage.test_client()
    statuses = [submit(client, email=f"rosa{n}@example.com").status_code for n in range(4)]
    assert statuses == [302, 302, 302, 429], "counted in the process's memory meanwhile"
    assert len(outbox()) == 3


def test_the_link_shows_a_button_and_only_the_button_confirms(app: Flask, client: FlaskClient
                                                              ) -> None:
    submit(client)
    link = link_in(outbox()[0])
    page = client.get(link)
    assert page.status_code == 200 and "Confirm your request" in page.get_data(as_text=True)
    case = db.session.execute(select(Request)).scalar_one()
    assert case.state == "submitted", "opening the link (as a mail scanner does) changes nothing"

    token = csrf_token(client, link)
    confirmed = client.post(link, data={"csrf_token": token})
    assert confirmed.status_code == 200
    assert "your request is confirmed" in confirmed.get_data(as_text=True)
    db.session.expire_all()
    case = db.session.get(Request, case.id)
    assert case.state == "verified" and case.verify_nonce is None
    assert case.verified_at is not None and case.due_at > utcnow()
    last = audit.events_for(case.id)[-1]
    assert (last.actor, last.details["trigger"]) == ("subject", "verify")


def test_a_used_link_does_not_work_again(app: Flask, client: FlaskClient) -> None:
    submit(client)
    link = link_in(outbox()[0])
    client.post(link, data={"csrf_token": csrf_token(client, link)})
    again = client.get(link)
    assert again.status_code == 410
    assert "already been used" in again.get_data(as_text=True)


def test_an_expired_link_says_so(app: Flask, client: FlaskClient,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    submit(client)
    link = link_in(outbox()[0])
    later = time.time() + 73 * 3600
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: later)
    response = client.get(link)
    assert response.status_code == 410
    assert "This link has expired" in response.get_data(as_text=True)
    assert db.session.execute(select(Request.state)).scalar_one() == "submitted"


def test_a_link_altered_to_reach_another_request_is_refused(app: Flask, client: FlaskClient
                                                            ) -> None:
    submit(client, email="first@example.com")
    submit(client, email="second@example.com")
    first_link = link_in(outbox()[0])
    token = first_link.rsplit("/", 1)[1]
    _, _, signature = token.partition(".")
    forged = itsdangerous.encoding.base64_encode(b'{"r":2,"n":"x"}').decode()
    response = client.get(f"/requests/verify/{forged}.{signature}")
    assert response.status_code == 400
    assert "not a valid confirmation link" in response.get_data(as_text=True)
    assert [r.state for r in db.session.execute(select(Request)).scalars()] == ["submitted"] * 2


def test_the_development_mailbox_shows_the_link(app: Flask, client: FlaskClient) -> None:
    submit(client)
    page = client.get("/dev/mailbox/").get_data(as_text=True)
    assert "Please confirm your request" in page
    assert '<a href="http://127.0.0.1:5000/requests/verify/' in page


def test_unconfirmed_requests_expire_and_the_address_is_told(app: Flask, client: FlaskClient,
                                                             runner) -> None:
    from datetime import timedelta

    submit(client)
    fresh = submit(client, email="fresh@example.com")
    assert fresh.status_code == 302
    stale = db.session.execute(select(Request).where(
        Request.requester_email == "rosa@example.com")).scalar_one()
    stale.received_at = utcnow() - timedelta(hours=73)
    db.session.commit()
    link = link_in(outbox()[0])

    result = runner.invoke(args=["requests", "expire-unverified"])

    assert "Expired 1 unconfirmed request(s)." in result.output
    states = dict(db.session.execute(select(Request.requester_email, Request.state)).all())
    assert states == {"rosa@example.com": "expired", "fresh@example.com": "submitted"}
    notice = outbox()[-1]
    assert (notice.to_address, notice.subject) == (
        "rosa@example.com", "Your request was not confirmed and has lapsed")
    response = client.get(link)
    assert response.status_code == 410
    assert "expired before it was confirmed" in response.get_data(as_text=True)


def test_the_confirmation_page_shows_nothing_the_requester_typed(app: Flask, client: FlaskClient
                                                                 ) -> None:
    submit(client, name="Unusual Name Xq")
    page = client.get(link_in(outbox()[0])).get_data(as_text=True)
    assert "Unusual Name Xq" not in page and "rosa@example.com" not in page


@pytest.mark.parametrize("field", ["name", "message"])
def test_control_characters_are_refused_with_a_message(app: Flask, client: FlaskClient,
                                                        field: str) -> None:
    response = submit(client, **{field: "Rosa\x00 Rivera"})
    assert response.status_code == 400
    assert "Remove the invisible control characters" in response.get_data(as_text=True)
    api = client.post("/api/v1/requests", json={"type": "access", "email": "r@example.com",
                                                "name": "Rosa", field: "a\x00b"})
    assert api.status_code == 400
    assert outbox() == []


def test_a_known_address_gets_the_same_answer_as_an_unknown_one(app: Flask,
                                                               client: FlaskClient) -> None:
    submit(client, email="known@example.com")
    confirm = link_in(outbox()[0])
    client.post(confirm, data={"csrf_token": csrf_token(client, confirm)})
    known, unknown = (submit(client, email=e) for e in ("known@example.com",
                                                         "stranger@example.net"))
    assert (known.status_code, known.headers["Location"], known.get_data()) == \
        (unknown.status_code, unknown.headers["Location"], unknown.get_data())


def test_a_validly_signed_link_for_another_request_is_refused(app: Flask,
                                                             client: FlaskClient) -> None:
    from dsr.subjects.links import CONFIRMATION

    submit(client, email="first@example.com")
    submit(client, email="second@example.com")
    first, second = db.session.execute(select(Request).order_by(Request.id)).scalars().all()
    mixed = CONFIRMATION.issue(r=second.id, n=first.verify_nonce)
    response = client.get(f"/requests/verify/{mixed}")
    assert response.status_code == 410
    assert [r.state for r in db.session.execute(select(Request)).scalars()] == ["submitted"] * 2
