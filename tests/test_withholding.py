"""Staff withhold a finding at review, whole or a passage of it, on a ground the answer gives;
they can undo it; bad input is refused with a message, keeping what was typed; the trail keeps
the finding and the ground, never the passage or the note."""

from html import unescape

import pytest
from flask.testing import FlaskClient

from dsr import audit
from dsr.extensions import db
from dsr.models import FoundItem, Request
from dsr.report import Answer, compile_report, view
from tests.factories import make_request
from tests.fixtures.people import csrf_token

CONVERSATION = "Sam: our lawyer Dr. Weiss advised on the refund.\nSupport Team: noted."


def _findings(case):
    """The findings the request's answer would list now."""
    fresh = db.session.get(Request, case.id)
    return list(Answer(fresh, compile_report(fresh)).findings())


def ticket(case: Request) -> FoundItem:
    item = FoundItem(request_id=case.id, source="helpdesk", category="ticket",
                     label="Helpdesk ticket", value="Refund", record_kind="ticket",
                     record_key="7", context={"conversation": CONVERSATION})
    db.session.add(item)
    db.session.commit()
    return item


def withhold(client: FlaskClient, case: Request, item: FoundItem, **fields: str):
    page = f"/console/requests/{case.reference}"
    data = {f"item{item.id}-{key}": value for key, value in fields.items()}
    data[f"item{item.id}-csrf_token"] = csrf_token(client, page)
    response = client.post(f"{page}/findings/{item.id}/withhold", data=data)
    db.session.expire_all()  # the app committed in its own session: read afresh
    return response


def restore(client: FlaskClient, case: Request, item: FoundItem, **fields: str):
    page = f"/console/requests/{case.reference}"
    response = client.post(f"{page}/findings/{item.id}/restore",
                           data={"csrf_token": csrf_token(client, page), **fields})
    db.session.expire_all()
    return response


@pytest.fixture
def reviewed(staff_client: FlaskClient) -> tuple[Request, FoundItem, FoundItem]:
    case = make_request("access", "in_review")
    return case, ticket(case), ticket(case)


def test_a_passage_and_a_whole_finding_are_withheld_on_their_grounds(staff_client, reviewed
                                                                     ) -> None:
    case, first, second = reviewed
    response = withhold(staff_client, case, first, ground="legal_privilege",
                        passage="our lawyer Dr. Weiss advised on the refund",
                        note="Advice of counsel, file 12/26")
    assert response.status_code == 302
    assert withhold(staff_client, case, second, ground="other",
                    note="It is part of an ongoing fraud inquiry").status_code == 302

    page = staff_client.get(f"/console/requests/{case.reference}").get_data(as_text=True)
    assert "our lawyer Dr. Weiss advised on the refund" in page, "staff still see it all"
    assert "Show this passage again" in page and "Put it back" in page
    answer = compile_report(db.session.get(Request, case.id))
    [shown] = _findings(case)
    assert shown["context"]["conversation"] == (
        "Sam: [withheld: legal privilege].\nSupport Team: noted.")
    assert answer["withheld"] == [{"ground": "other", "count": 1,
                                   "reason": "It is part of an ongoing fraud inquiry"}]
    assert answer["withheld_in_part"] == [{"ground": "legal_privilege", "count": 1,
                                           "reason": "it is covered by legal privilege"}]

    events = [e for e in audit.events_for(case.id) if e.action.startswith("finding.")]
    assert [(e.action, e.details) for e in events] == [
        ("finding.redact", {"finding": first.id, "ground": "legal_privilege"}),
        ("finding.withhold", {"finding": second.id, "ground": "other"})]


def test_staff_undo_what_they_withheld(staff_client, reviewed) -> None:
    case, first, second = reviewed
    withhold(staff_client, case, first, ground="trade_secret", passage="Dr. Weiss")
    withhold(staff_client, case, second, ground="another_person")
    assert restore(staff_client, case, first, part="0").status_code == 302
    assert restore(staff_client, case, second).status_code == 302
    answer = compile_report(db.session.get(Request, case.id))
    assert answer["withheld"] == [] and answer["withheld_in_part"] == []
    assert [f["context"]["conversation"] for f in _findings(case)] == [CONVERSATION,
                                                                       CONVERSATION]
    restored = [e.details for e in audit.events_for(case.id) if e.action == "finding.restore"]
    assert restored == [{"finding": first.id}, {"finding": second.id}]


@pytest.mark.parametrize(("fields", "message"), [
    ({"ground": "", "note": "Typed with care"}, "Choose the ground it is withheld on."),
    ({"ground": "other", "note": " ", "passage": "Dr. Weiss"}, "Say in the note why"),
    ({"ground": "trade_secret", "passage": "Dr. Meyer", "note": "Typed with care"},
     "that passage is not in this finding"),
    ({"ground": "sympathy", "note": "Typed with care"}, "Not a valid choice"),
], ids=["no ground", "other without note", "passage not found", "unknown ground"])
def test_bad_input_is_refused_with_a_message_keeping_what_was_typed(
    staff_client, reviewed, fields: dict[str, str], message: str
) -> None:
    case, first, _ = reviewed
    response = withhold(staff_client, case, first, **fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert "Typed with care" in page or "Dr. Weiss" in page
    item = db.session.get(FoundItem, first.id)
    assert (item.withheld, item.redactions) == (False, [])
    assert not [e for e in audit.events_for(case.id) if e.action.startswith("finding.")]


def test_a_finding_of_another_request_is_not_found(staff_client, reviewed) -> None:
    case, _, _ = reviewed
    other = make_request("access", "in_review", email="other@example.com")
    theirs = ticket(other)
    page = f"/console/requests/{case.reference}"
    response = staff_client.post(f"{page}/findings/{theirs.id}/withhold", data={
        f"item{theirs.id}-ground": "another_person",
        f"item{theirs.id}-csrf_token": csrf_token(staff_client, page)})
    assert response.status_code == 404
    assert not db.session.get(FoundItem, theirs.id).withheld


def test_a_request_not_in_review_is_refused_keeping_what_was_typed(staff_client) -> None:
    case = make_request("access", "fulfilled")
    item = ticket(case)
    response = withhold(staff_client, case, item, ground="trade_secret",
                        note="Pricing model")
    assert response.status_code == 409
    assert "can be withheld only while an access request" in response.get_data(as_text=True)
    assert not db.session.get(FoundItem, item.id).withheld
    assert restore(staff_client, case, item).status_code == 409


def test_a_withholding_without_csrf_token_is_refused(staff_client, reviewed) -> None:
    case, first, _ = reviewed
    response = staff_client.post(
        f"/console/requests/{case.reference}/findings/{first.id}/withhold",
        data={f"item{first.id}-ground": "another_person"})
    assert response.status_code == 400
    assert not db.session.get(FoundItem, first.id).withheld


def test_each_rows_form_has_its_own_labelled_fields(staff_client, reviewed) -> None:
    case, first, second = reviewed
    page = staff_client.get(f"/console/requests/{case.reference}").get_data(as_text=True)
    for item in (first, second):
        for field in ("ground", "passage", "note"):
            assert f'<label for="item{item.id}-{field}">' in page
            assert f'id="item{item.id}-{field}"' in page


def test_a_passage_typed_across_lines_is_found_as_the_browser_sends_it(staff_client, reviewed
                                                                       ) -> None:
    case, first, _ = reviewed
    response = withhold(staff_client, case, first, ground="trade_secret",
                        passage=" the refund.\r\nSupport Team ")
    assert response.status_code == 302
    assert _findings(case)[0]["context"]["conversation"] == \
        "Sam: our lawyer Dr. Weiss advised on [withheld: trade secret]: noted."


def test_a_finding_withheld_before_grounds_existed_is_withheld_for_another_persons_sake(
    tmp_path
) -> None:
    import flask_migrate

    from dsr import create_app
    from tests.fixtures.databases import config_for

    app = create_app(config_for(f"sqlite:///{tmp_path / 'old.sqlite'}"))
    with app.app_context():
        flask_migrate.upgrade(revision="0011")
        with db.engine.begin() as connection:
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
            connection.exec_driver_sql(
                "INSERT INTO found_items (request_id, source, category, label, value, "
                "record_kind, record_key, record_field, context, withheld) VALUES "
                "(1, 'helpdesk', 'ticket', 'Helpdesk ticket', 'Refund', 'ticket', '7', '', "
                "'{}', 1), (1, 'helpdesk', 'ticket', 'Helpdesk ticket', 'Late', 'ticket', '8', "
                "'', '{}', 0)")
        flask_migrate.upgrade(revision="0012")
        with db.engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT value, withheld_ground, redactions FROM found_items ORDER BY id").all()
        db.engine.dispose()
    assert [tuple(row) for row in rows] == [("Refund", "another_person", "[]"),
                                            ("Late", None, "[]")]


def test_an_answer_released_before_grounds_existed_still_says_what_was_left_out(app) -> None:
    from flask import render_template

    case = make_request("access", "in_review")
    ticket(case)
    released = compile_report(case)
    # How an answer released before grounds (and systems) existed kept it.
    released |= {"withheld": 1, "categories": [], "sources": []}
    for key in ("withheld_in_part", "others_taken_out", "systems", "summary"):
        del released[key]
    answer = Answer(case, released)
    with app.test_request_context():
        page = render_template("portal/report.html", case=case, report=answer.header,
                               shown=view(answer), correctable=set())
    assert "1 item was left out: 1 because it would reveal another person's personal " \
        "information (Art. 15(4))." in unescape(page)
