"""Sign-in, roles, CSRF, cookies, and the account and token commands."""

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from dsr import create_app
from dsr.extensions import db
from dsr.models import ApiToken, AuditEvent, User, hash_token
from tests.fixtures.databases import config_for
from tests.fixtures.people import PASSWORD, csrf_token, sign_in


def actions() -> list[str]:
    return list(db.session.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars())


def test_staff_sign_in_reaches_the_queue_and_is_audited(client: FlaskClient, users) -> None:
    response = sign_in(client, "Staff@Example.org ")
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/"
    landing = client.get("/staff/", follow_redirects=True)
    assert landing.request.path == "/console/"
    assert "Requests" in landing.get_data(as_text=True)
    assert "auth.sign_in" in actions()


@pytest.mark.parametrize(
    ("email", "password"),
    [("staff@example.org", "wrong password"), ("nobody@example.org", PASSWORD)],
)
def test_a_failed_sign_in_says_so_without_telling_which_part_was_wrong(
    client: FlaskClient, users, email: str, password: str
) -> None:
    response = sign_in(client, email, password)
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert "do not match an active account" in page
    assert f'value="{email}"' in page, "the e-mail address typed is kept"
    assert client.get("/console/").status_code == 302


def test_an_inactive_account_cannot_sign_in(client: FlaskClient, users) -> None:
    users["staff"].active = False
    db.session.commit()
    assert sign_in(client, "staff@example.org").status_code == 401


def test_malformed_sign_in_fields_get_400_with_messages(client: FlaskClient) -> None:
    token = csrf_token(client, "/staff/sign-in")
    response = client.post(
        "/staff/sign-in", data={"email": "not-an-address", "password": "", "csrf_token": token}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Invalid email address." in page
    assert "This field is required." in page
    assert 'value="not-an-address"' in page


def test_a_form_without_its_csrf_token_is_refused(client: FlaskClient, users) -> None:
    response = client.post(
        "/staff/sign-in", data={"email": "staff@example.org", "password": PASSWORD}
    )
    assert response.status_code == 400
    assert "The form expired or was sent from another page" in response.get_data(as_text=True)


@pytest.mark.parametrize("email", ["legal@example.org", "admin@example.org"])
def test_a_missing_role_gets_a_clear_403_page(client: FlaskClient, users, email: str) -> None:
    sign_in(client, email)
    response = client.get("/console/")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Not allowed" in page
    assert "This page needs the role staff." in page
    home = client.get("/staff/")
    # Legal's home is their register, an admin's the admin pages; neither sees the queue.
    landing = "/legal/" if email.startswith("legal") else "/admin/"
    assert home.headers["Location"] == landing
    page = client.get(landing).get_data(as_text=True)
    assert "Queue</a>" not in page
    if landing == "/admin/":
        assert "<h1>Administration</h1>" in page
        assert client.get("/legal/").status_code == 403


def test_only_an_admin_reaches_the_admin_pages(client: FlaskClient, users) -> None:
    sign_in(client, "staff@example.org")
    response = client.get("/admin/")
    assert response.status_code == 403
    assert "This page needs the role admin." in response.get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/console/requests/AAAA-BBBB-CCCC-DDDD")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/sign-in?next=")


@pytest.mark.parametrize(
    ("target", "landing"),
    [
        ("/console/?state=verified", "/console/?state=verified"),
        ("https://evil.example/steal", "/staff/"),
        ("//evil.example/steal", "/staff/"),
    ],
)
def test_sign_in_follows_next_only_within_the_site(
    client: FlaskClient, users, target: str, landing: str
) -> None:
    token = csrf_token(client, "/staff/sign-in")
    response = client.post(
        "/staff/sign-in", query_string={"next": target},
        data={"email": "staff@example.org", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == landing


def test_sign_out_takes_a_post_and_ends_the_session(client: FlaskClient, users) -> None:
    sign_in(client, "staff@example.org")
    assert client.get("/staff/sign-out").status_code == 405
    token = csrf_token(client, "/console/")
    assert client.post("/staff/sign-out", data={"csrf_token": token}).status_code == 302
    assert client.get("/console/").status_code == 302
    assert "auth.sign_out" in actions()


def test_a_session_cookie_copied_before_sign_out_is_dead_after_it(
    app: Flask, users
) -> None:
    browser, thief = app.test_client(), app.test_client()
    sign_in(browser, "staff@example.org")
    stolen = browser.get_cookie("session")
    assert stolen is not None
    thief.set_cookie("session", stolen.value)
    assert thief.get("/console/").status_code == 200
    browser.post("/staff/sign-out", data={"csrf_token": csrf_token(browser, "/console/")})
    assert thief.get("/console/").status_code == 302


def test_a_fresh_client_is_not_signed_in_by_another(app: Flask, users) -> None:
    first, second = app.test_client(), app.test_client()
    sign_in(first, "staff@example.org")
    assert second.get("/console/").status_code == 302
    assert second.get("/staff/sign-in").status_code == 200


def test_sign_in_attempts_are_rate_limited(app: Flask, client: FlaskClient, users) -> None:
    app.config["SIGN_IN_RATE_LIMIT"] = "3 per minute"
    statuses = [sign_in(client, "staff@example.org", "wrong").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert "Too many attempts" in sign_in(client, "staff@example.org").get_data(as_text=True)


def test_session_cookie_is_httponly_samesite_and_secure_by_default(sqlite_url: str) -> None:
    config = config_for(sqlite_url)
    del config["SESSION_COOKIE_SECURE"], config["REMEMBER_COOKIE_SECURE"]
    app = create_app(config)
    client = app.test_client()
    response = client.get("/staff/sign-in")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie


def test_passwords_are_stored_as_argon2id_hashes(users) -> None:
    assert users["staff"].password_hash.startswith("$argon2id$")


def test_users_create_makes_an_account_with_several_roles(
    app: Flask, runner: FlaskCliRunner, client: FlaskClient
) -> None:
    result = runner.invoke(
        args=["users", "create", "Lena@Example.org", "--role", "staff", "--role", "legal"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "with the role(s) legal, staff" in result.output
    user = db.session.execute(select(User).where(User.email == "lena@example.org")).scalar_one()
    assert user.role_names == {"staff", "legal"}
    assert sign_in(client, "lena@example.org").status_code == 302
    assert "user.created" in actions()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["not-an-address", "--role", "staff"], "Invalid value for EMAIL"),
        (["a@example.org", "--role", "boss"], "'boss' is not one of"),
        (["a@example.org"], "Missing option '--role'"),
        (["a@example.org", "--role", "staff", "--password", "short"], "at least 12"),
        (["staff@example.org", "--role", "staff"], "exists"),
    ],
)
def test_users_create_refuses_bad_input_clearly(
    users, runner: FlaskCliRunner, args: list[str], message: str
) -> None:
    if "--password" not in args:
        args = [*args, "--password", PASSWORD]
    result = runner.invoke(args=["users", "create", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert db.session.execute(select(User)).scalars().all().__len__() == 4


def test_tokens_create_prints_the_token_last_and_stores_only_its_hash(
    users, runner: FlaskCliRunner
) -> None:
    result = runner.invoke(args=["tokens", "create", "staff@example.org"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert re.fullmatch(r"dsr_[A-Za-z0-9_-]{40,}", token)
    row = db.session.execute(select(ApiToken)).scalar_one()
    assert row.token_hash == hash_token(token)


def test_tokens_create_for_an_unknown_account_fails_clearly(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["tokens", "create", "ghost@example.org"])
    assert result.exit_code == 1
    assert "No account has the e-mail address ghost@example.org." in result.output


def test_users_list_and_deactivate(users, runner: FlaskCliRunner, client: FlaskClient) -> None:
    listed = runner.invoke(args=["users", "list"]).output.splitlines()
    assert any(line.split() == ["both@example.org", "legal,staff", "active"] for line in listed)

    result = runner.invoke(args=["users", "deactivate", "staff@example.org"])
    assert result.exit_code == 0, result.output
    assert sign_in(client, "staff@example.org").status_code == 401
    listed = runner.invoke(args=["users", "list"]).output.splitlines()
    assert any(line.split() == ["staff@example.org", "staff", "deactivated"] for line in listed)
    assert "user.deactivated" in actions()
