"""The privacy policy as versioned text: an admin drafts, previews against the version in
force and publishes; a version is in force from its effective date, never before; published
versions are never edited, only superseded or withdrawn; the public pages show every one."""

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from email_validator import EmailNotValidError, validate_email
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dsr import policy
from dsr.extensions import db
from dsr.models import AuditEvent, PolicyMailing, PolicyVersion
from dsr.policy import notices
from tests.fixtures.people import csrf_token, sign_in

TEXT = "# Our privacy policy\n\nWe keep your data safe.\n\n## Cookies\n\nOne cookie for the chat.\n"


@pytest.fixture
def admin(client: FlaskClient, users) -> FlaskClient:
    sign_in(client, "admin@example.org")
    return client


def write_draft(admin: FlaskClient, text: str = TEXT, summary: str = "A first version.",
                effective: date | None = None):
    url = "/admin/policy/new"
    return admin.post(url, data={
        "text": text, "summary": summary,
        "effective_on": (effective or policy.today()).isoformat(),
        "csrf_token": csrf_token(admin, url)})


def publish(admin: FlaskClient, draft_url: str, confirm: bool = True):
    data = {"csrf_token": csrf_token(admin, draft_url)}
    if confirm:
        data["confirm"] = "y"
    return admin.post(f"{draft_url}/publish", data=data)


def published_version(admin: FlaskClient, text: str = TEXT, summary: str = "A first version.",
                      effective: date | None = None) -> int:
    draft = write_draft(admin, text, summary, effective)
    assert draft.status_code == 302, draft.get_data(as_text=True)
    response = publish(admin, draft.headers["Location"])
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_only_an_admin_reaches_the_policy_pages(client: FlaskClient, users) -> None:
    sign_in(client, "staff@example.org")
    assert client.get("/admin/policy/").status_code == 403
    assert client.get("/admin/policy/new").status_code == 403


def test_a_draft_is_previewed_against_the_version_in_force_then_published(
        admin: FlaskClient) -> None:
    number = published_version(admin)
    assert number == 1
    changed = TEXT.replace("One cookie for the chat.", "Two cookies: chat and sign-in.")
    draft = write_draft(admin, changed, "Cookies: one more, for signing in.",
                        policy.today() + timedelta(days=30))
    assert draft.status_code == 302
    page = admin.get(draft.headers["Location"]).get_data(as_text=True)
    assert "<h1>Our privacy policy</h1>" in page, "the preview is the rendered text"
    assert "1 line added, 1 removed" in page
    assert re.search(r"<ins[^>]*><span[^>]*>Added: </span>Two cookies: chat and sign-in.</ins>",
                     page)
    assert re.search(r"<del[^>]*><span[^>]*>Removed: </span>One cookie for the chat.</del>",
                     page)
    assert "as version 2" in page

    unconfirmed = publish(admin, draft.headers["Location"], confirm=False)
    assert unconfirmed.status_code == 400
    assert "Tick the box to confirm" in unconfirmed.get_data(as_text=True)
    assert policy.by_number(2) is None

    assert published_version(admin, changed, "Cookies.", policy.today() + timedelta(days=30)) \
        == 2
    events = db.session.execute(select(AuditEvent.action, AuditEvent.details).where(
        AuditEvent.action == "policy.published")).all()
    assert [details["code"] for _, details in events] == ["v1", "v2"]


def test_bad_input_is_refused_with_a_message_and_nothing_typed_is_lost(
        admin: FlaskClient) -> None:
    past = write_draft(admin, effective=policy.today() - timedelta(days=1))
    assert past.status_code == 400
    page = past.get_data(as_text=True)
    assert "The effective date has passed" in page
    assert "We keep your data safe." in page, "the text typed is shown again"
    empty = write_draft(admin, summary="")
    assert empty.status_code == 400
    assert "Say what changes" in empty.get_data(as_text=True)
    assert db.session.execute(select(PolicyVersion)).first() is None


def test_a_published_version_is_never_edited_nor_deleted(admin: FlaskClient,
                                                         app: Flask) -> None:
    draft = write_draft(admin)
    publish(admin, draft.headers["Location"])
    again = admin.post(draft.headers["Location"], data={
        "text": "changed", "summary": "changed", "effective_on": policy.today().isoformat(),
        "csrf_token": csrf_token(admin, "/admin/policy/new")})
    assert again.status_code == 409
    assert "never edited" in again.get_data(as_text=True)
    # Not even by hand: the database refuses.
    for statement in ("UPDATE policy_versions SET text = 'rewritten'",
                      "UPDATE policy_versions SET effective_on = '2030-01-01'",
                      "DELETE FROM policy_versions"):
        with pytest.raises(sa.exc.DatabaseError, match="never"):
            db.session.execute(sa.text(statement))
        db.session.rollback()
    assert policy.by_number(1).text == TEXT.strip()  # type: ignore[union-attr]


def test_a_version_takes_effect_on_its_date_and_not_before(admin: FlaskClient,
                                                           client: FlaskClient) -> None:
    published_version(admin)
    later = policy.today() + timedelta(days=10)
    published_version(admin, TEXT + "\n## Newsletter\n\nNone.\n", "A section on newsletters.",
                      later)
    page = client.get("/policy").get_data(as_text=True)
    assert "version 1" in page and "In force" in page
    assert f"A new version takes effect on {later:%-d %B %Y}" in page
    assert "Newsletter" not in page.split("Every version")[0]
    announced = client.get("/policy/2").get_data(as_text=True)
    assert f"takes effect on {later:%-d %B %Y}" in announced and "Newsletter" in announced

    with time_machine.travel(later, tick=False):
        db.session.expire_all()
        page = client.get("/policy").get_data(as_text=True)
        assert "version 2" in page and "In force</span> since" in page
        assert "<h2>Newsletter</h2>" in page
        old = client.get("/policy/1").get_data(as_text=True)
        assert "Superseded" in old and f"until {later:%-d %B %Y}" in old
    assert client.get("/policy/3").status_code == 404


def test_a_version_published_before_the_last_one_took_effect_withdraws_it(
        admin: FlaskClient, client: FlaskClient) -> None:
    published_version(admin)
    published_version(admin, TEXT + "\nSecond.\n", "Second.", policy.today() + timedelta(days=20))
    published_version(admin, TEXT + "\nThird.\n", "Third.", policy.today() + timedelta(days=10))
    second = policy.by_number(2)
    assert second is not None and second.withdrawn_by_number == 3
    page = client.get("/policy/2").get_data(as_text=True)
    assert "Withdrawn" in page and "it never took effect" in page
    with time_machine.travel(policy.today() + timedelta(days=30), tick=False):
        assert policy.in_force().number == 3  # type: ignore[union-attr]
    third = db.session.execute(select(PolicyMailing).join(
        PolicyVersion, PolicyVersion.id == PolicyMailing.version_id)
        .where(PolicyVersion.number == 3)).scalar_one()
    assert third.corrects == "2", "its e-mail corrects the one about version 2"


def test_the_public_page_shows_no_markup_an_admin_typed(admin: FlaskClient,
                                                        client: FlaskClient) -> None:
    published_version(admin, TEXT + '\n<script>alert(1)</script>\n[x](javascript:alert(1))\n')
    page = client.get("/policy").get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="javascript:' not in page


def test_without_any_version_the_public_page_says_so(client: FlaskClient) -> None:
    page = client.get("/policy")
    assert page.status_code == 200
    assert "No version of the privacy policy has been published here yet." in \
        page.get_data(as_text=True)


@pytest.mark.parametrize("typed", [
    "Client1@Example.COM", " a.b+c@sub.example.org ", "o'neil@example.ie", "ünï@example.com",
    "bob@MÜNCHEN.de", "a@xn--mnchen-3ya.de", "a..b@example.com", "a@-x.com", "a@x",
    ".a@example.com", "a@ex_ample.com", "", "not an address"])
def test_a_customer_is_written_to_at_the_address_email_validator_makes_of_it(
        typed: str) -> None:
    """The quick path for plain addresses reads each as the validator does, so a person
    listed twice in different spellings is told once, and what is no address is left out."""
    try:
        expected: str | None = validate_email(typed.strip(), check_deliverability=False) \
            .normalized.lower()
    except EmailNotValidError:
        expected = None
    assert notices._address(typed) == expected
