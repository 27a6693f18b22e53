"""The answer as a person reads it: a summary, contents, each system with its facts, activity
by date; the same answer as PDF, JSON and CSV; and the preview staff see before release."""

import csv
import io
import re

import pytest
from flask import Flask
from pypdf import PdfReader

from dsr import audit, report
from dsr.demo import company
from dsr.extensions import db
from tests.fixtures.people import (
    confirmed_request,
    csrf_token,
    link,
    mails,
    make_user,
    press,
    sign_in,
    staff_acts,
)


@pytest.fixture
def reviewed(company_app: Flask, company_copy):
    """A customer's access request, collected and waiting for review."""
    make_user("staff@example.org", "staff")
    _, people = company_copy
    me = people[company.MENTIONING - 1]
    subject = company_app.test_client()
    case = confirmed_request(subject, me)
    staff_acts(company_app, case.reference, "start_collection")
    return subject, me, case


def _released(company_app: Flask, reviewed):
    subject, me, case = reviewed
    staff_acts(company_app, case.reference, "approve", "release")
    press(subject, link(mails("ready")[-1]))
    return subject, me, case


def test_the_page_opens_with_a_summary_and_contents_then_each_system(company_app, reviewed
                                                                     ) -> None:
    subject, _, case = _released(company_app, reviewed)
    page = subject.get(f"/my/requests/{case.reference}/report").get_data(as_text=True)
    answer = subject.get(f"/my/requests/{case.reference}/report.json").json
    summary = re.search(r'<section class="card summary".*?</section>', page, re.S).group(0)
    held = answer["summary"]["systems_holding"]
    assert f"<strong>{answer['summary']['findings']} pieces of information</strong>" in summary
    assert f"<strong>{held} of the {answer['summary']['systems_searched']} systems</strong>" \
        in summary
    assert answer["summary"]["since"] and f"the oldest from {answer['summary']['since']}" \
        in summary
    contents = page.index('id="contents"')
    assert contents < page.index('id="system-billing"') < page.index('id="searched"') \
        < page.index('id="rights"'), "summary, contents, systems, where we looked, rights"
    assert '<a href="#system-billing">Customer accounts and billing (WHMCS)</a>' in page
    billing = page[page.index('id="system-billing"'):]
    billing = billing[:billing.index("</section>")]
    assert "<dt>Legal basis</dt>" in billing and "<dt>Kept</dt>" in billing, \
        "why, how long and who receives beside the system"


def test_activity_is_newest_first_with_counts_per_month(company_app, reviewed) -> None:
    subject, _, case = _released(company_app, reviewed)
    answer = subject.get(f"/my/requests/{case.reference}/report.json").json
    visits = [f["date"] for f in answer["findings"] if f["category"] == "visit"]
    assert visits and visits == sorted(visits, reverse=True)
    shown = report.view(report.Answer(case, answer))
    [analytics] = [s for s in shown["held"] if s["name"] == "analytics"]
    [group] = [g for g in analytics["groups"] if g["category"] == "visit"]
    if len(visits) >= report.CHART_FROM:
        assert sum(m["count"] for m in group["months"]) == len(visits)
        page = subject.get(f"/my/requests/{case.reference}/report").get_data(as_text=True)
        assert "<caption>Website visits per month</caption>" in page


def test_the_pdf_holds_the_same_answer(company_app, reviewed) -> None:
    subject, me, case = _released(company_app, reviewed)
    response = subject.get(f"/my/requests/{case.reference}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="cloudtoko-answer-{case.reference}.pdf"'
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    text = re.sub(r"\s+", " ", text)
    assert "What we hold about you" in text and "In short" in text
    assert me.email in text and "Your rights" in text and "Legal basis" in text
    assert "This is wrong" not in text
    assert ("report.downloaded", "pdf") in [
        (e.action, e.details.get("code")) for e in audit.events_for(case.id)]


def test_a_long_pdf_lists_the_newest_and_says_the_json_and_csv_hold_the_rest(
    company_app, reviewed, monkeypatch
) -> None:
    subject, _, case = _released(company_app, reviewed)
    monkeypatch.setitem(company_app.config, "PDF_LISTED", 2)
    answer = subject.get(f"/my/requests/{case.reference}/report.json").json
    visits = [f for f in answer["findings"] if f["category"] == "visit"]
    assert len(visits) > 2, "the demo subject has more visits than the PDF lists"
    rows = list(csv.DictReader(io.StringIO(
        subject.get(f"/my/requests/{case.reference}/report.csv").get_data(as_text=True))))
    assert len(rows) == len(answer["findings"]), "the CSV lists every finding"
    response = subject.get(f"/my/requests/{case.reference}/report.pdf")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    text = re.sub(r"\s+", " ", text)
    assert f"the {len(visits) - 2} earlier are in the JSON and CSV copies" in text
    assert visits[0]["value"] in text and visits[-1]["value"] not in text, "the newest listed"


def test_the_csv_carries_each_systems_facts_and_runs_no_formula(company_app, reviewed) -> None:
    subject, me, case = reviewed
    from dsr.models import FoundItem
    item = db.session.query(FoundItem).filter_by(request_id=case.id, category="name").first()
    item.value = "=HYPERLINK(\"http://evil.example\")"
    other = db.session.query(FoundItem).filter_by(request_id=case.id, category="address").first()
    other.value = "+49+cmd|' /C calc'!A0"
    db.session.commit()
    subject, me, case = _released(company_app, reviewed)
    rows = list(csv.DictReader(io.StringIO(
        subject.get(f"/my/requests/{case.reference}/report.csv").get_data(as_text=True))))
    assert {row["system"] for row in rows} >= {"Customer accounts and billing (WHMCS)"}
    assert all(row["legal basis"] and row["kept"] for row in rows)
    values = [row["value"] for row in rows]
    assert "'=HYPERLINK(\"http://evil.example\")" in values
    assert "'+49+cmd|' /C calc'!A0" in values, "a number in front does not get a formula by"
    assert me.phone in [row["value"] for row in rows], "a telephone number stays as it is"


def test_staff_preview_what_the_subject_will_see_before_release(company_app, reviewed) -> None:
    subject, me, case = reviewed
    staff = company_app.test_client()
    sign_in(staff, "staff@example.org")
    page = staff.get(f"/console/requests/{case.reference}").get_data(as_text=True)
    assert f'href="/console/requests/{case.reference}/preview"' in page
    preview = staff.get(f"/console/requests/{case.reference}/preview")
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "<strong>Preview.</strong>" in text
    assert "In short" in text and me.email in text and "This is wrong" not in text
    assert [e.action for e in audit.events_for(case.id)].count("report.previewed") == 1
    assert not mails("ready"), "a preview sends nothing"

    assert subject.get(f"/console/requests/{case.reference}/preview").status_code in (302, 403)
    staff_acts(company_app, case.reference, "approve", "release")
    refused = staff.get(f"/console/requests/{case.reference}/preview")
    assert refused.status_code == 409
    assert "can be previewed once collection has finished" in refused.get_data(as_text=True)


def test_a_customer_sees_their_own_bank_account_staff_only_after_a_reveal(
    company_app, company_copy
) -> None:
    make_user("staff@example.org", "staff")
    _, people = company_copy
    banked = next(p for p in people if p.id % 3 == 0)
    subject = company_app.test_client()
    case = confirmed_request(subject, banked)
    staff_acts(company_app, case.reference, "start_collection")
    from dsr.models import FoundItem
    held = [i.value for i in db.session.query(FoundItem).filter_by(
        request_id=case.id, category="bank_details") if sum(c.isdigit() for c in i.value) > 8]
    assert held, "billing holds this customer's bank account number"
    staff = company_app.test_client()
    sign_in(staff, "staff@example.org")
    url = f"/console/requests/{case.reference}"
    text = staff.get(f"{url}/preview").get_data(as_text=True)
    assert not [value for value in held if value in text]
    staff.post(f"{url}/reveal", data={"csrf_token": csrf_token(staff, url)})
    text = staff.get(f"{url}/preview").get_data(as_text=True)
    assert all(value in text for value in held)
    assert "findings.revealed" in [e.action for e in audit.events_for(case.id)]

    staff_acts(company_app, case.reference, "approve", "release")
    press(subject, link(mails("ready")[-1]))
    page = subject.get(f"/my/requests/{case.reference}/report").get_data(as_text=True)
    assert all(value in page for value in held), "the subject sees their own IBAN in full"
    billing = page[page.index('id="system-billing"'):]
    billing = billing[:billing.index("</section>")]
    assert ">Invoices <span" in billing and ">Orders and services <span" in billing
