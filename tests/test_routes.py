"""Every route of the app and who may reach it: a table that names each endpoint's audience,
held against the URL map (a new route without a rule fails here), and each endpoint asked by
each kind of visitor, who must be let through or turned away as the table says."""

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dsr.database import utcnow
from dsr.extensions import db
from dsr.models import ApiToken
from tests.factories import make_request
from tests.fixtures.people import csrf_token, link, mails, make_user, press, sign_in

# public: anyone; subject: a subject signed in by a mailed link; staff, legal, admin: an
# account holding that role; account: any signed-in account; token: a staff API token;
# sign-in: the steps of signing in and out, which end on the sign-in page whoever asks
# (test_auth.py and test_two_step.py hold them to their rules).
AUDIENCE = {
    "static": "public", "portal.home": "public", "portal.new_request": "public",
    "portal.new_correction": "public", "portal.sent": "public", "portal.policy": "public",
    "portal.policy_version": "public", "portal.verify": "public",
    "portal.stop_change": "public", "mailbox.index": "public", "api.openapi": "public",
    "api.submit_request": "public", "subject.sign_in": "public",
    "subject.session_link": "public", "subject.sign_out": "public",
    "subject.requests": "subject", "subject.report_page": "subject",
    "subject.report_download": "subject", "subject.changes": "subject",
    "subject.propose": "subject",
    "auth.sign_in": "public", "auth.second_step": "sign-in",
    "auth.set_up_second_step": "sign-in", "auth.home": "account", "auth.sign_out": "sign-in",
    "console.queue": "staff", "console.request_page": "staff", "console.preview": "staff",
    "console.transition": "staff", "console.add_note": "staff", "console.reveal": "staff",
    "console.retry_source": "staff", "console.withhold": "staff", "console.restore": "staff",
    "review.decide": "staff", "review.done": "staff", "review.retry": "staff",
    "legal.index": "legal", "legal.new": "legal", "legal.record": "legal",
    "legal.approve": "legal", "legal.transition": "legal", "legal.retry_source": "legal",
    "legal.document": "legal", "legal.package": "legal", "legal.transparency_page": "legal",
    "legal.transparency_csv": "legal",
    "admin.index": "admin", "admin.policies": "admin", "admin.new_policy": "admin",
    "admin.draft": "admin", "admin.discard": "admin", "admin.publish": "admin",
    "admin.published": "admin", "admin.mailing_progress": "admin", "admin.list_again": "admin",
    "admin.retry": "admin", "admin.retention_report": "admin", "admin.count_sources": "admin",
    "api.list_requests": "token", "api.get_request": "token", "api.post_transition": "token",
    "api.get_audit": "token",
}
PERSONAS = ("anonymous", "subject", "staff", "legal", "admin")
ADDRESS = "rosa.rivera@example.com"


def test_every_route_has_an_audience(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - set(AUDIENCE) == set(), "a route nobody decided who may reach"
    assert set(AUDIENCE) - endpoints == set(), "a rule for a route that is gone"


def _url(rule: str, reference: str) -> str:
    values = {"reference": reference, "token": "x", "fmt": "json", "source": "billing",
              "filename": "dsr.css", "decision": "approve"}
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: values.get(m.group(1), "1"), rule)


def _turned_away(response, persona: str) -> bool:
    where = response.headers.get("Location", "")
    return response.status_code in (401, 403) or (
        response.status_code == 302 and ("/sign-in" in where or "/two-step" in where))


def _allowed(audience: str, persona: str) -> bool | None:
    if audience in ("public", "sign-in"):
        return None if audience == "sign-in" else True
    if audience == "account":
        return persona in ("staff", "legal", "admin")
    if audience == "token":
        return persona == "staff"
    return persona == audience


@pytest.fixture
def personas(sqlite_app: Flask) -> dict[str, FlaskClient]:
    case = make_request("access", "fulfilled", email=ADDRESS)
    case.verified_at = utcnow()
    db.session.commit()
    clients = {name: sqlite_app.test_client() for name in PERSONAS}
    for role in ("staff", "legal", "admin"):
        make_user(f"{role}@example.org", role)
        sign_in(clients[role], f"{role}@example.org")
    subject = clients["subject"]
    subject.post("/my/sign-in", data={"email": ADDRESS,
                                      "csrf_token": csrf_token(subject, "/my/sign-in")})
    press(subject, link(mails("sign-in")[-1]))
    row, token = ApiToken.issue(make_user("api@example.org", "staff"))
    db.session.add(row)
    db.session.commit()
    clients["staff"].environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    clients["reference"] = case.reference  # type: ignore[assignment]
    return clients


def test_each_route_lets_through_only_its_audience(sqlite_app: Flask, personas) -> None:
    reference = personas.pop("reference")
    wrong = []
    # Signing out last: it ends the persona's session for every route after it.
    rules = sorted(sqlite_app.url_map.iter_rules(), key=lambda r: r.endpoint.endswith("sign_out"))
    for rule in rules:
        audience = AUDIENCE[rule.endpoint]
        url = _url(rule.rule, reference)
        for persona, client in personas.items():
            if "GET" in rule.methods:
                response = client.get(url)
            else:
                response = client.post(url, data={
                    "csrf_token": csrf_token(client, "/requests/new")})
            assert response.status_code < 500, (url, persona)
            allowed = _allowed(audience, persona)
            if allowed is None:
                continue
            if allowed == _turned_away(response, persona):
                wrong.append(f"{persona} {'refused' if allowed else 'let into'} {url} "
                             f"({audience}): {response.status_code}")
            response.close()
    assert not wrong, "\n".join(wrong)
