"""The black-box review's findings (issue 13), each reproduced the way it was found and shown
fixed."""

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dsr.database import utcnow
from dsr.extensions import db
from dsr.models import AuditEvent
from tests.factories import make_request
from tests.fixtures.people import csrf_token, link, mails, press

ADDRESS = "rosa.rivera@example.com"


def subject_signed_in(client: FlaskClient, email: str = ADDRESS) -> None:
    client.post("/my/sign-in", data={"email": email,
                                     "csrf_token": csrf_token(client, "/my/sign-in")})
    press(client, link(mails("sign-in")[-1]))
    assert client.get("/my/").status_code == 200


def copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of `client`'s session cookie, taken now."""
    thief = app.test_client()
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief.set_cookie("session", cookie.value)
    return thief


def test_1_a_copy_of_a_subjects_cookie_dies_with_the_sign_out(app: Flask,
                                                              client: FlaskClient) -> None:
    case = make_request("access", "fulfilled", email=ADDRESS)
    case.verified_at = utcnow()
    db.session.commit()
    subject_signed_in(client)
    stolen = copy_of(app, client)
    assert stolen.get("/my/").status_code == 200, "the copy works while the session lasts"

    elsewhere = app.test_client()
    subject_signed_in(elsewhere)
    signed_out = client.post("/my/sign-out", data={"csrf_token": csrf_token(client, "/my/")})
    assert signed_out.status_code == 302
    for browser in (client, stolen, elsewhere):
        page = browser.get("/my/")
        assert page.status_code == 302 and page.location.endswith("/my/sign-in"), \
            "a sign-out ends every session of the address, copies included"
    assert db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "subject.sign_out")).first() is not None
