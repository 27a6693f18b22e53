"""Other people taken out of free text before it reaches a subject's answer (GDPR Art. 15(4)):
each kind of identifier, the subject's own kept, names matched whole and regardless of accents,
and the company's staff left as they are."""

import pytest
from flask import Flask

from dsr.adapters import Finding, RecordRef, SubjectIdentity
from dsr.adapters.redaction import ANOTHER_PERSON, Redaction
from dsr.categories import Category
from dsr.demo import company
from tests.fixtures.people import confirmed_request, link, mails, make_user, press, staff_acts

ME = SubjectIdentity.of("ana.lima@example.com", customer_ids=["4"], phones=["+49 30 5550101"])
REDACTION = Redaction.of(ME, ibans=["DE89 3704 0044 0532 0130 00"], names=["Ana Lima"],
                         others=["Chloé Dvořák", "Bram de Vries", "Ana Lima", "Support",
                                 "Chloé"],
                         staff_domains=["cloudtoko.example"])


@pytest.mark.parametrize(("text", "shown"), [
    ("Write to eva.novak.5@example.com please.", f"Write to {ANOTHER_PERSON} please."),
    ("Call +49 30 7654321 tomorrow.", f"Call {ANOTHER_PERSON} tomorrow."),
    ("Call (030) 765-4321 tomorrow.", f"Call {ANOTHER_PERSON} tomorrow."),
    ("Pay into DE44 5001 0517 5407 3249 31.", f"Pay into {ANOTHER_PERSON}."),
    ("Move it to customer 5.", f"Move it to {ANOTHER_PERSON}."),
    ("Move it to Customer No. 5.", f"Move it to {ANOTHER_PERSON}."),
    ("Move it to customer #5.", f"Move it to {ANOTHER_PERSON}."),
    ("Move it to Kundennummer 5.", f"Move it to {ANOTHER_PERSON}."),
    ("Chloé Dvořák asked too.", f"{ANOTHER_PERSON} asked too."),
    ("CHLOE DVORAK asked too.", f"{ANOTHER_PERSON} asked too."),
    ("Ask bram  de vries, not me.", f"Ask {ANOTHER_PERSON}, not me."),
], ids=["e-mail", "phone", "national phone", "iban", "customer", "customer no.", "customer #",
        "kundennummer", "name", "name without accents", "name with a particle"])
def test_another_persons_identifier_becomes_another_person(text: str, shown: str) -> None:
    assert REDACTION.text(text) == shown


@pytest.mark.parametrize("text", [
    "Write to Ana.Lima@example.com please.",
    "Call +49 30 5550101 or 030 5550101.",
    "My IBAN is DE89 3704 0044 0532 0130 00.",
    "I am customer 4, Ana Lima.",
    "Ticket #5 and order #12 are mine; see 2026-03-04 10:00 UTC, 01.02.2026, 10.0.0.5.",
    "Chloé Dvořákova is another name; so is Bramde Vries.",
    "Support Team: we are on it. Write to support@cloudtoko.example.",
    "Support: Chloé will call.",
], ids=["own e-mail", "own phone", "own iban", "own customer and name", "numbers that are not",
        "part of a word", "staff", "lone words are no full name"])
def test_the_subjects_own_words_and_everything_else_are_kept(text: str) -> None:
    assert REDACTION.text(text) == text


def test_a_name_written_beside_another_persons_address_is_taken_out_everywhere_in_the_record(
) -> None:
    ticket = Finding(Category.TICKET, "Helpdesk ticket", "For Eva Novák", "helpdesk",
                     RecordRef("helpdesk", "ticket", "1"), {
                         "conversation": "Ana Lima: move it to my colleague Eva Novák "
                                         "(eva.novak.5@example.com).\nSupport Team: done."})
    shown = REDACTION.finding(ticket)
    assert shown.value == f"For {ANOTHER_PERSON}"
    assert shown.context["conversation"] == (
        f"Ana Lima: move it to my colleague {ANOTHER_PERSON} ({ANOTHER_PERSON}).\n"
        "Support Team: done.")


def test_structured_facts_are_not_free_text() -> None:
    name = Finding(Category.NAME, "Name", "Chloé Dvořák", "billing",
                   RecordRef("billing", "client", "9", "name"))
    assert REDACTION.finding(name) == name


def test_the_demo_ticket_and_chat_naming_a_colleague_reach_the_answer_without_them(
    company_app: Flask, company_copy
) -> None:
    make_user("staff@example.org", "staff")
    _, people = company_copy
    me, other = people[company.MENTIONING - 1], people[company.MENTIONED - 1]
    subject = company_app.test_client()
    case = confirmed_request(subject, me)
    staff_acts(company_app, case.reference, "start_collection", "approve", "release")

    press(subject, link(mails("ready")[0]))
    report = subject.get(f"/my/requests/{case.reference}/report.json").json
    found = {f["value"]: f for f in report["findings"]}
    ticket = found["Transfer domain to a colleague"]["context"]["conversation"]
    chat = found["Access for a colleague"]["context"]["transcript"]
    for text in (ticket, chat):
        assert ANOTHER_PERSON in text
        assert f"{other.first} {other.last}" not in text and other.email not in text
    assert other.phone not in chat and "customer 5" not in ticket
    assert f"{me.first} {me.last}: Please move example-shop.eu to my colleague" in ticket
    assert "Support Team: Hi" in ticket and "Support: Yes" in chat
    page = subject.get(f"/my/requests/{case.reference}/report").get_data(as_text=True)
    assert other.last not in page and other.email not in page


def test_the_name_of_someone_behind_another_request_is_taken_out_of_the_subjects_chat(
    company_app: Flask, company_copy
) -> None:
    import sqlite3

    make_user("staff@example.org", "staff")
    folder, people = company_copy
    me, other = people[company.MENTIONING - 1], people[company.MENTIONED - 1]
    with sqlite3.connect(folder / "helpdesk.sqlite") as helpdesk:
        helpdesk.execute(
            "INSERT INTO swchatobjects (userid, userfullname, useremail, ipaddress, subject, "
            "transcript, dateline) VALUES (?,?,?,?,?,?,?)",
            (me.id, f"{me.first} {me.last}", me.email, me.ip, "A referral",
             f"{me.first}: {other.first.upper()} {other.last} sent me.\nSupport: Welcome!",
             1767225600))
    confirmed_request(company_app.test_client(), other)  # dsr knows them: they asked too
    subject = company_app.test_client()
    case = confirmed_request(subject, me)
    staff_acts(company_app, case.reference, "start_collection", "approve", "release")

    press(subject, link(mails("ready")[-1]))
    report = subject.get(f"/my/requests/{case.reference}/report.json").json
    [chat] = [f for f in report["findings"]
              if f["value"] == "A referral"]
    assert chat["context"]["transcript"] == (
        f"{me.first}: {ANOTHER_PERSON} sent me.\nSupport: Welcome!")
