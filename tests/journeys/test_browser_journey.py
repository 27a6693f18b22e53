"""The access request end to end in a real Chromium with JavaScript off, against the demo
company's systems: a subject asks, confirms through the link in the captured e-mail, staff
collect and release, and the subject signs in and downloads the JSON answer, which holds
their data from all three systems and nobody else's."""

import json
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import update

from dsr.demo import company
from dsr.demo.standins import query
from dsr.extensions import db
from dsr.models import Disclosure
from tests.fixtures.browser import served, staff_sign_in
from tests.fixtures.people import confirmed_request, make_user, staff_acts

pytestmark = pytest.mark.browser


@pytest.fixture
def live_company(company_app: Flask) -> Iterator[str]:
    with served(company_app) as url:
        yield url


def open_latest_mail(page: Page, base: str, subject: str) -> None:
    """Follow the link in the newest e-mail with this subject, from the development mailbox."""
    page.goto(f"{base}/dev/mailbox/")
    mail = page.locator("article.mail", has=page.get_by_role("heading", name=subject)).first
    href = mail.get_by_role("link").first.get_attribute("href")
    assert href and href.startswith("http://127.0.0.1:5000/")
    page.goto(base + href.removeprefix("http://127.0.0.1:5000"))


def sign_in_as(browser, base: str, email: str) -> Page:
    return staff_sign_in(browser.new_context(java_script_enabled=False).new_page(), base,
                         email)


def test_subject_asks_confirms_and_downloads_the_answer(
    company_app: Flask, live_company: str, page: Page, browser, company_copy
) -> None:
    _, people = company_copy
    me = people[company.MENTIONING - 1]
    make_user("staff@example.org", "staff")
    db.session.remove()

    page.goto(f"{live_company}/")
    page.get_by_role("link", name="Make a request").first.click()
    page.get_by_label("To know what personal information you hold on me").check()
    page.get_by_label("Your e-mail address").fill(me.email)
    page.get_by_label("Your name").fill(f"{me.first} {me.last}")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()

    open_latest_mail(page, live_company, "Please confirm your request")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Thank you: your request is confirmed")).to_be_visible()
    reference = page.locator("code").first.inner_text()

    staff = sign_in_as(browser, live_company, "staff@example.org")
    staff.get_by_role("link", name=reference).click()
    staff.get_by_role("button", name="Start collection").click()
    # In tests a commit returns once the jobs it handed over have run (fixtures/databases.py).
    expect(staff.get_by_role("status")).to_have_text("Done: the request is now in review.")
    expect(staff.get_by_role("cell", name="helpdesk", exact=True).first).to_be_visible()
    staff.get_by_role("button", name="Approve release").click()
    staff.get_by_role("button", name="Release to subject").click()
    expect(staff.get_by_role("status")).to_have_text("Done: the request is now fulfilled.")
    staff.context.close()

    open_latest_mail(page, live_company, "Your answer is ready")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your requests")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download JSON").click()
    answer = json.loads(download.value.path().read_text(encoding="utf-8"))

    found = {(f["source"], f["category"]) for f in answer["findings"]}
    assert {("billing", "email"), ("analytics", "visit"), ("helpdesk", "ticket")} <= found
    text = json.dumps(answer)
    assert me.email in text
    assert not [c.email for c in people if c.id != me.id and c.email in text]


def test_subject_proposes_two_changes_staff_approve_one_and_reject_one(
    company_app: Flask, live_company: str, page: Page, browser, company_copy
) -> None:
    folder, people = company_copy
    me = people[8]
    new_phone = "+49 30 90182600"
    reason = "Our contracts are with the company as registered; send us the register extract."
    make_user("staff@example.org", "staff")
    db.session.remove()

    page.goto(f"{live_company}/")
    page.get_by_role("link", name="Ask for a correction").click()
    page.get_by_label("Your e-mail address").fill(me.email)
    page.get_by_label("Your name").fill(f"{me.first} {me.last}")
    page.get_by_label("What is wrong").select_option(label="Telephone number")
    page.get_by_label("What we hold now (optional)").fill(me.phone)
    page.get_by_label("What it should be").fill("030 90182600")
    page.get_by_role("button", name="Add another change").click()
    second = page.get_by_role("group", name="Change 2")
    second.get_by_label("What is wrong").select_option(label="Company name")
    second.get_by_label("What it should be").fill(f"{me.company} GmbH")
    page.get_by_role("button", name="Send correction request").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    open_latest_mail(page, live_company, "Please confirm your request")
    page.get_by_role("button", name="Confirm").click()
    reference = page.locator("code").first.inner_text()

    staff = sign_in_as(browser, live_company, "staff@example.org")
    staff.get_by_role("link", name=reference).click()
    staff.get_by_role("button", name="Read current values").click()
    expect(staff.get_by_role("status")).to_have_text("Done: the request is now in review.")
    held = staff.get_by_role("checkbox", name=f"billing · Telephone: {me.phone}")
    expect(held).to_be_checked()  # the value the subject said is wrong
    staff.get_by_role("button", name="Approve telephone number").click()
    staff.get_by_label("Reason to reject company name").fill(reason)
    staff.get_by_role("button", name="Reject company name").click()
    staff.get_by_role("button", name="Send decisions").click()
    # Sending the decisions applies the approved change; in tests a commit returns once the
    # jobs it handed over have run. The helpdesk holds the same number but takes no
    # writes from dsr: a task for staff.
    expect(staff.get_by_role("status")).to_have_text("Done: the request is now applying.")
    expect(staff.get_by_role("row", name="billing · Telephone")).to_contain_text(
        "written and read back")
    staff.get_by_label("What you did").fill("Changed the number in the helpdesk by hand.")
    staff.get_by_role("button", name="Mark done").click()
    expect(staff.get_by_role("status")).to_have_text("Task done.")
    expect(staff.locator(".facts .state").first).to_have_text("applied")
    staff.context.close()

    [client] = query(folder / "billing.sqlite", "SELECT * FROM tblclients WHERE id = ?", me.id)
    assert (client["phonenumber"], client["companyname"]) == (new_phone, me.company)

    page.goto(f"{live_company}/dev/mailbox/")
    notice = page.locator("article.mail", has=page.get_by_text("To privacy@demo-bank.example"))
    expect(notice.get_by_role("heading")).to_contain_text("Rectification of personal data")
    expect(notice).to_contain_text(new_phone)

    open_latest_mail(page, live_company, "Your corrections are made")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="See your changes").click()
    expect(page.get_by_role("region", name="1. Telephone number")).to_contain_text("Corrected")
    rejected = page.get_by_role("region", name="2. Company name")
    expect(rejected).to_contain_text("Not corrected")
    expect(rejected).to_contain_text(reason)
    expect(page.get_by_role("region", name="Who we told of the corrections")).to_contain_text(
        "Demo Bank AG")


def test_legal_disclose_a_court_order_narrowed_and_gagged_then_the_subject_is_told(
    company_app: Flask, live_company: str, page: Page, browser, company_copy
) -> None:
    _, people = company_copy
    me = people[company.MENTIONING - 1]
    authority = "Landeskriminalamt Berlin"
    for email in ("first@example.org", "second@example.org"):
        make_user(email, "legal")
    make_user("staff@example.org", "staff")
    db.session.remove()

    first = sign_in_as(browser, live_company, "first@example.org")
    expect(first.get_by_role("heading", name="Disclosure register")).to_be_visible()
    first.get_by_role("link", name="Record a new request").click()
    first.get_by_label("Requesting authority").fill(authority)
    first.get_by_label("How the request's authenticity was checked").fill(
        "Called back the LKA's switchboard on its published number.")
    first.get_by_label("Instrument").select_option(label="Court order")
    first.get_by_label("Citation").fill("AG Tiergarten 351 Gs 12/26")
    first.get_by_label("Targets").fill(me.email)
    first.get_by_label("Subscriber data").check()
    first.get_by_label("Traffic and log data").check()
    first.get_by_role("button", name="Open the record").click()
    reference = first.locator("h1 code").inner_text()
    first.get_by_role("button", name="Start legal review").click()
    first.get_by_role("button", name="Approve disclosure").click()
    expect(first.get_by_role("alert")).to_contain_text("a second legal officer must")
    first.context.close()

    second = sign_in_as(browser, live_company, "second@example.org")
    second.get_by_role("link", name=reference).click()
    second.get_by_label("Traffic and log data").uncheck()
    second.get_by_label("Why narrower than asked").fill("The order covers subscriber data.")
    second.get_by_role("button", name="Approve disclosure").click()
    expect(second.get_by_text("narrowed", exact=True)).to_be_visible()
    second.get_by_role("button", name="Start collection").click()
    second.get_by_role("button", name="Package reviewed").click()
    sha256 = second.locator("dd code").inner_text()
    assert len(sha256) == 64
    second.get_by_label("Delivered by").select_option(label="Secure portal")
    second.get_by_role("button", name="Record disclosure").click()
    second.get_by_label("Legal basis of the gag order").fill("§ 95a StPO, ordered by the court.")
    until = date.today() + timedelta(days=30)
    second.get_by_label("Gag order until").fill(until.isoformat())
    second.get_by_role("button", name="Defer notification (gag order)").click()
    expect(second.get_by_role("status")).to_have_text(
        "Done: the record is now notification deferred.")
    second.context.close()

    access = confirmed_request(company_app.test_client(), me)
    staff_acts(company_app, access.reference, "start_collection", "approve", "release")
    open_latest_mail(page, live_company, "Your answer is ready")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Read your answer").click()
    expect(page.get_by_role("heading", name="What we hold about you")).to_be_visible()
    expect(page.get_by_text(authority)).to_have_count(0)

    db.session.execute(update(Disclosure).values(gag_until=date.today()))
    db.session.commit()
    result = company_app.test_cli_runner().invoke(args=["disclosures", "notify-due"])
    assert f"Told the subject of {reference}" in result.output
    page.goto(f"{live_company}/dev/mailbox/")
    notice = page.locator("article.mail", has=page.get_by_role(
        "heading", name="Information about your account was disclosed to an authority"))
    expect(notice).to_contain_text(f"To {me.email}")
    expect(notice).to_contain_text(authority)
