"""Two-step sign-in and per-account throttling (issue 13, finding 6): legal and admin accounts
set up a TOTP second step before they first get in, then need a code each time; a code works
once; recovery codes work once each; failed attempts are throttled per account named."""

import re
from datetime import timedelta

import pyotp
import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dsr.database import utcnow
from dsr.extensions import db
from dsr.models import AuditEvent, User
from tests.fixtures.people import PASSWORD, csrf_token, make_user


@pytest.fixture
def required(app: Flask) -> Flask:
    app.config["MFA_REQUIRED_ROLES"] = ["legal", "admin"]
    return app


def password(client: FlaskClient, email: str, secret: str = PASSWORD):
    return client.post("/staff/sign-in", data={
        "email": email, "password": secret, "csrf_token": csrf_token(client, "/staff/sign-in")})


def code(client: FlaskClient, url: str, value: str):
    return client.post(url, data={"code": value, "csrf_token": csrf_token(client, url)})


def set_up(client: FlaskClient, email: str) -> tuple[str, list[str]]:
    """Sign in with the password and set the second step up; return secret and codes."""
    assert password(client, email).location == "/staff/two-step"
    page = client.get("/staff/two-step").get_data(as_text=True)
    assert "<svg" in page and "QR code of the secret" in page
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page).group(1)
    secret = secret.replace(" ", "")
    done = code(client, "/staff/two-step", pyotp.TOTP(secret).now())
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([0-9a-f]{6}-[0-9a-f]{6})</code></li>",
                       done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def test_legal_sets_up_a_second_step_before_getting_in(required: Flask,
                                                       client: FlaskClient) -> None:
    make_user("legal@example.org", "legal")
    assert password(client, "legal@example.org").location == "/staff/two-step"
    assert client.get("/legal/").status_code == 302, "not signed in by the password alone"
    assert code(client, "/staff/two-step", "000000").status_code == 400
    set_up(client.application.test_client(), "legal@example.org")


def test_a_code_works_once_and_recovery_codes_once_each(required: Flask) -> None:
    make_user("admin@example.org", "admin")
    secret, codes = set_up(required.test_client(), "admin@example.org")
    totp = pyotp.TOTP(secret)
    later = utcnow() + timedelta(seconds=90)
    with time_machine.travel(later, tick=False):
        browser = required.test_client()
        assert password(browser, "admin@example.org").location == "/staff/sign-in/code"
        assert browser.get("/admin/").status_code == 302
        now = totp.now()
        assert code(browser, "/staff/sign-in/code", now).status_code == 302
        assert browser.get("/admin/").status_code == 200
        again = required.test_client()
        password(again, "admin@example.org")
        refused = code(again, "/staff/sign-in/code", now)
        assert refused.status_code == 401, "the same code does not work twice"
        assert "was used already" in refused.get_data(as_text=True)
        assert code(again, "/staff/sign-in/code", codes[0]).status_code == 302
        third = required.test_client()
        password(third, "admin@example.org")
        assert code(third, "/staff/sign-in/code", codes[0]).status_code == 401
    vias = [d.get("via") for (d,) in db.session.execute(select(AuditEvent.details).where(
        AuditEvent.action == "auth.sign_in").order_by(AuditEvent.seq))]
    assert vias[-2:] == ["totp", "recovery"]


def test_an_account_signed_in_before_the_rule_is_sent_to_set_it_up(
        app: Flask, client: FlaskClient) -> None:
    make_user("legal@example.org", "legal")
    assert password(client, "legal@example.org").location == "/staff/"
    assert client.get("/legal/").status_code == 200
    app.config["MFA_REQUIRED_ROLES"] = ["legal"]
    page = client.get("/legal/")
    assert (page.status_code, page.location) == (302, "/staff/two-step")


def test_staff_need_no_second_step_unless_configured_but_may_set_one_up(
        required: Flask, client: FlaskClient) -> None:
    make_user("staff@example.org", "staff")
    assert password(client, "staff@example.org").location == "/staff/"
    assert client.get("/staff/two-step").status_code == 200, "open to every account"
    required.config["MFA_REQUIRED_ROLES"] = ["staff"]
    assert password(required.test_client(), "staff@example.org").location == "/staff/two-step"


def test_failed_sign_ins_are_throttled_per_account_named_known_or_not(
        app: Flask, client: FlaskClient) -> None:
    app.config["SIGN_IN_RATE_LIMIT"] = "1000 per minute"  # the per-client limit, apart
    make_user("staff@example.org", "staff")
    for email in ("staff@example.org", "nobody@example.org"):
        statuses = [password(client, email, "wrong").status_code for _ in range(5)]
        assert statuses == [401] * 5
        assert password(client, email).status_code == 429, email
    other = make_user("other@example.org", "staff")
    assert password(client, other.email).status_code == 302, "other accounts are not held"


def test_a_reset_takes_the_second_step_away_and_ends_sessions(required: Flask) -> None:
    make_user("legal@example.org", "legal")
    browser = required.test_client()
    set_up(browser, "legal@example.org")
    assert browser.get("/legal/").status_code == 200
    result = required.test_cli_runner().invoke(args=["users", "reset-two-step",
                                                     "legal@example.org"])
    assert "reset" in result.output
    assert browser.get("/legal/").status_code == 302
    user = db.session.execute(select(User).where(User.email == "legal@example.org")).scalar_one()
    db.session.refresh(user)
    assert user.totp_secret is None
