"""dsr's own records as a source: a subject's requests, what they wrote, the decisions and
their reasons, the e-mails dsr sent them (no working link in them) and their sign-ins; never
another person's request, never a disclosure."""

import csv
import io
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from dsr import ConfigError, collection, corrections, create_app, engine
from dsr.actors import SUBJECT, Actor
from dsr.adapters import SubjectIdentity
from dsr.adapters.registry import OWN, OWN_TITLE, configured
from dsr.categories import Category
from dsr.corrections import Proposal
from dsr.demo import sources as demo
from dsr.extensions import db
from dsr.models import FoundItem, OutboxMessage, Request, SubjectSignIn
from dsr.subjects import intake
from dsr.subjects.sign_in import claim_sign_in, send_sign_in_link
from tests.fixtures.company import DEMO_REGISTER
from tests.fixtures.databases import app_on, config_for

ME = "rosa@example.com"
OTHER = "otto@example.com"
STAFF = Actor("user:1", frozenset({"staff"}))
TOKEN_LINK = re.compile(r"/(?:requests/verify|session|corrections/stop)/([\w.\-]+)")


@pytest.fixture
def own_app(sqlite_url: str) -> Iterator[Flask]:
    """An app that declares dsr's own register entry, its jobs consumed."""
    yield from app_on(sqlite_url, DSR_REGISTER=DEMO_REGISTER)


def collected(case: Request) -> None:
    """Confirm the request and collect it, through the queue, as staff start it."""
    engine.fire(case, "verify", actor=SUBJECT)
    db.session.commit()
    engine.fire(case, "start_collection", actor=STAFF)
    db.session.commit()
    db.session.refresh(case)
    assert case.state == "in_review"


def earlier_correction() -> Request:
    """A correction of Rosa's telephone number, rejected with a reason and told to her."""
    case = intake.submit("correction", ME, "Rosa Roth", None, [Proposal(
        Category.PHONE, "+49 30 1111111", current="+49 30 2222222", why="I moved house")])
    db.session.commit()
    collected(case)
    [change] = corrections.changes_of(case)
    corrections.reject(case, change, "The number is the one on your contract.", actor=STAFF,
                       user_id=1)
    engine.fire(case, "decide", actor=STAFF)
    db.session.commit()
    return case


def own_items(case: Request) -> list[FoundItem]:
    return [i for i in collection.found_items(case) if i.source == OWN]


def texts(items: list[FoundItem]) -> list[str]:
    return [text for i in items for text in (i.value, *i.context.values())]


def test_the_answer_holds_the_subjects_requests_messages_mails_decisions_and_sign_ins(
    own_app: Flask
) -> None:
    earlier = earlier_correction()
    send_sign_in_link(ME)
    db.session.commit()
    assert claim_sign_in(db.session.execute(
        select(SubjectSignIn).order_by(SubjectSignIn.id.desc()).limit(1)).scalar_one())
    db.session.commit()
    other = intake.submit("access", OTHER, "Otto Other", "Otto's own words to you", None)
    case = intake.submit("access", ME, "Rosa Roth", "Everything you hold, please.", None)
    db.session.commit()
    collected(case)

    items = own_items(case)
    by_label: dict[str, list[FoundItem]] = {}
    for item in items:
        by_label.setdefault(item.label, []).append(item)
    requests = {i.value: i for i in by_label["Correction request"] + by_label["Access request"]}
    assert set(requests) == {earlier.reference, case.reference}
    assert requests[earlier.reference].context["state"] in {"decided", "closed"}
    assert requests[case.reference].context["received"].endswith("UTC")
    assert [i.value for i in by_label["What you wrote with your request"]] == [
        "Everything you hold, please."]
    steps = [(i.context["request"], i.value) for i in by_label["Step in your request"]]
    assert (earlier.reference, "Send decisions") in steps
    assert (case.reference, "Start collection") in steps

    [proposed] = by_label["Correction you proposed"]
    assert proposed.category == Category.RECORD.value
    assert proposed.context["value you proposed"] == "+49 30 1111111"
    assert proposed.context["value you said was held"] == "+49 30 2222222"
    assert proposed.context["why"] == "I moved house"
    assert proposed.context["decision"] == "rejected"
    assert proposed.context["reason for the decision"] == "The number is the one on your contract."

    mails = list(db.session.execute(select(OutboxMessage).where(
        OutboxMessage.to_address == ME)).scalars())
    tokens = {token for m in mails for token in TOKEN_LINK.findall(m.body)}
    assert tokens, "the confirmation and sign-in e-mails carried tokens"
    told = by_label["E-mail this service sent you"]
    assert {i.context["subject"] for i in told} == {m.subject for m in mails}
    assert all(i.category == Category.MESSAGE.value for i in told)
    assert any("[link]" in i.value for i in told)
    assert not [t for t in texts(items) for token in tokens if token in t]

    sign_ins = by_label["Sign-in link"]
    assert {i.category for i in sign_ins} == {Category.SIGN_IN.value}
    assert [i.context["used"] for i in sign_ins][-1].endswith("UTC")
    assert len(sign_ins) == len(db.session.execute(select(SubjectSignIn)).all())

    assert not [t for t in texts(items) if OTHER in t or "Otto" in t]
    assert other.reference not in texts(items)


def test_a_disclosure_about_the_subject_is_never_in_their_answer(own_app: Flask) -> None:
    record = engine.open_request("disclosure", actor=STAFF, requester_email=ME)
    db.session.add(OutboxMessage(kind="disclosure-notice", to_address=ME, request_id=record.id,
                                 subject="A disclosure of your data", body="Police asked."))
    case = intake.submit("access", ME, "Rosa Roth", None, None)
    db.session.commit()
    collected(case)
    found = texts(own_items(case))
    assert record.reference not in found
    assert not [t for t in found if "disclosure" in t.lower() or "Police" in t]
    assert case.reference in found


def test_the_inline_collection_reads_dsr_too(own_app: Flask) -> None:
    case = intake.submit("access", ME, "Rosa Roth", "Hello", None)
    engine.fire(case, "verify", actor=SUBJECT)
    db.session.commit()
    runs = collection.collect(case, actor=STAFF)
    assert runs[OWN].state == "done", runs[OWN].error
    assert "Hello" in texts(own_items(case))
    assert runs[OWN].searched == {"emails": 1}


def test_dsr_is_a_source_of_its_own_with_its_title_and_register(own_app: Flask) -> None:
    own = configured()[OWN]
    assert own.title == OWN_TITLE
    assert own.register.purposes == DEMO_REGISTER["purposes"]
    assert own.adapter.lookup(SubjectIdentity.of("nobody@example.net")) == []


def test_sources_without_dsrs_own_register_entry_stop_start_up(sqlite_url: str) -> None:
    sources = {"crm": {"adapter": "csv", "register": DEMO_REGISTER,
                       "settings": {"path": "/nowhere"}}}
    with pytest.raises(ConfigError, match="DSR_REGISTER is not set"):
        create_app(config_for(sqlite_url) | {"SOURCES": sources})
    with pytest.raises(ConfigError, match="DSR_REGISTER, setting 'legal_basis'"):
        create_app(config_for(sqlite_url) | {"SOURCES": sources, "DSR_REGISTER": {
            k: v for k, v in DEMO_REGISTER.items() if k != "legal_basis"}})


def test_sources_may_declare_dsr_themselves_and_the_register_lists_it_once(
    sqlite_url: str
) -> None:
    own = {"adapter": "dsr", "title": "Our request desk",
           "register": DEMO_REGISTER | {"purposes": ["Answering your requests"]}}
    for app in app_on(sqlite_url, SOURCES={OWN: own}, CONTROLLER=demo.CONTROLLER):
        assert configured()[OWN].title == "Our request desk"
        result = app.test_cli_runner().invoke(args=["register", "export"])
        assert result.exit_code == 0, result.output
        [entry] = list(csv.DictReader(io.StringIO(result.output)))
        assert entry["Purposes (b)"] == "Answering your requests"
