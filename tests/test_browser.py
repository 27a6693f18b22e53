"""A real Chromium (Playwright) with JavaScript switched off, against dsr served on 127.0.0.1:
a staff member signs in, finds a request in the queue and decides it; a legal member is told
the console is not theirs."""

from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from dsr.extensions import db
from tests.factories import make_request
from tests.fixtures.browser import served, staff_sign_in
from tests.fixtures.people import make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server(sqlite_app: Flask) -> Iterator[str]:
    """The app on SQLite, served on 127.0.0.1."""
    with served(sqlite_app) as url:
        yield url


def test_staff_decide_a_request_from_the_queue(
    sqlite_app: Flask, live_server: str, page: Page
) -> None:
    make_user("staff@example.org", "staff")
    reference = make_request(
        "access", "in_review", email="rosa@example.com", name="Rosa Rivera"
    ).reference
    make_request("correction", "verified", name="Other Person")
    db.session.remove()

    staff_sign_in(page, live_server, "staff@example.org")
    expect(page.get_by_role("heading", name="Requests")).to_be_visible()
    page.get_by_label("State").select_option("in_review")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("cell", name="Other Person")).to_have_count(0)

    page.get_by_role("link", name=reference).click()
    expect(page.get_by_text("rosa@example.com")).to_be_visible()
    page.get_by_label("Reason for “Reject”").fill("Manifestly excessive: third request today.")
    page.get_by_role("button", name="Reject").click()

    expect(page.get_by_role("status")).to_have_text("Done: the request is now rejected.")
    expect(page.get_by_text("Manifestly excessive: third request today.")).to_be_visible()
    expect(page.get_by_text("reject: in review → rejected")).to_be_visible()
    expect(page.get_by_role("button", name="Approve release")).to_have_count(0)


def test_legal_land_on_their_register_and_are_told_the_staff_console_is_not_theirs(
    sqlite_app: Flask, live_server: str, page: Page
) -> None:
    make_user("legal@example.org", "legal")
    db.session.remove()
    staff_sign_in(page, live_server, "legal@example.org")
    expect(page.get_by_role("heading", name="Disclosure register")).to_be_visible()
    expect(page.get_by_role("link", name="Queue")).to_have_count(0)
    page.goto(f"{live_server}/console/")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_text("This page needs the role staff.")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
