"""The staff console: the queue with its filters, a request's page, and its action buttons."""

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from dsr import audit, engine
from dsr.actors import Actor
from dsr.database import utcnow
from dsr.extensions import db
from dsr.models import AuditEvent, Request
from tests.factories import make_request
from tests.fixtures.people import csrf_token, sign_in


def refs(page: str, *cases: Request) -> list[bool]:
    return [case.reference in page for case in cases]


def test_queue_lists_requests_soonest_due_first_and_flags_overdue(
    staff_client: FlaskClient,
) -> None:
    old = make_request("access", "in_review", name="Olga Old",
                       received_at=utcnow() - timedelta(days=45))
    new = make_request("correction", "verified", name="Nina New")
    page = staff_client.get("/console/").get_data(as_text=True)
    assert page.index(old.reference) < page.index(new.reference)
    assert page.count("overdue</strong>") == 1
    assert "2 requests" in page


def test_a_queue_beyond_the_count_limit_says_more_than_and_shows_the_soonest_due(
    staff_client: FlaskClient, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dsr.console import views

    monkeypatch.setattr(views, "COUNT_LIMIT", 2)
    monkeypatch.setitem(staff_client.application.config, "PAGE_SIZE", 2)
    cases = [make_request("access", "in_review", received_at=utcnow() - timedelta(days=days))
             for days in (3, 2, 1)]
    page = staff_client.get("/console/").get_data(as_text=True)
    assert "More than 2 requests, the 2 due soonest shown" in page
    assert refs(page, *cases) == [True, True, False]
    page = staff_client.get("/console/?type=access&state=in_review").get_data(as_text=True)
    assert "More than 2 requests" in page
    cases[0].state = "closed"
    db.session.commit()
    page = staff_client.get("/console/?state=in_review").get_data(as_text=True)
    assert "2 requests" in page and "More than" not in page


def test_disclosures_never_appear_in_the_staff_queue(staff_client: FlaskClient) -> None:
    secret = make_request("disclosure", name="Target Person")
    page = staff_client.get("/console/").get_data(as_text=True)
    assert secret.reference not in page
    assert staff_client.get(f"/console/requests/{secret.reference}").status_code == 404


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ({"type": "correction"}, [False, True, False]),
        ({"state": "in_review"}, [True, False, False]),
        ({"due": "overdue"}, [True, False, False]),
        ({"due": "soon"}, [False, False, True]),
    ],
)
def test_queue_filters(staff_client: FlaskClient, query: dict[str, str], shown: list[bool]) -> None:
    overdue = make_request("access", "in_review", received_at=utcnow() - timedelta(days=40))
    correction = make_request("correction", "verified")
    soon = make_request("access", "verified", received_at=utcnow() - timedelta(days=27))
    page = staff_client.get("/console/", query_string=query).get_data(as_text=True)
    assert refs(page, overdue, correction, soon) == shown


def test_answered_requests_are_not_overdue(staff_client: FlaskClient) -> None:
    done = make_request("access", "fulfilled", received_at=utcnow() - timedelta(days=45))
    page = staff_client.get("/console/", query_string={"due": "overdue"}).get_data(as_text=True)
    assert done.reference not in page


def test_an_unknown_filter_value_gets_400_and_a_message(staff_client: FlaskClient) -> None:
    response = staff_client.get("/console/", query_string={"state": "sideways"})
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)


def test_request_page_shows_the_facts_and_audits_the_view(staff_client: FlaskClient) -> None:
    case = make_request("access", "in_review", email="ida@example.com", name="Ida Ines")
    page = staff_client.get(f"/console/requests/{case.reference}").get_data(as_text=True)
    assert "ida@example.com" in page and "Ida Ines" in page
    assert "Approve release" in page and "Reject" in page and "Start collection" not in page
    views = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "request.view")
    ).scalars().all()
    assert [v.request_id for v in views] == [case.id]
    assert "ida@example.com" not in str(views[0].details)


def page_form(client: FlaskClient, case: Request) -> dict[str, str]:
    """The hidden fields of the request page's action forms, as the browser has them."""
    page = client.get(f"/console/requests/{case.reference}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version, "the page offers no action"
    return {"csrf_token": csrf_token(client, f"/console/requests/{case.reference}"),
            "version": version.group(1)}


def post_action(client: FlaskClient, case: Request, trigger: str, **fields: str):
    return client.post(
        f"/console/requests/{case.reference}/transitions",
        data={"trigger": trigger, **page_form(client, case), **fields},
    )


def test_an_action_button_moves_the_request(staff_client: FlaskClient) -> None:
    case = make_request("access", "verified")
    response = post_action(staff_client, case, "start_collection")
    assert response.status_code == 302
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Done: the request is now collecting." in page
    assert "start_collection: verified → collecting" in page


def test_reject_without_reason_is_refused_and_the_page_explains(staff_client: FlaskClient) -> None:
    case = make_request("access", "in_review")
    response = post_action(staff_client, case, "reject", reason="  ")
    assert response.status_code == 422
    assert "A reason is required." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Request, case.id).state == "in_review"


def test_a_refused_extension_keeps_the_reason_typed(staff_client: FlaskClient) -> None:
    case = make_request("access", "in_review", received_at=utcnow() - timedelta(days=40))
    typed = "Three archives to search & a <holiday>"
    response = post_action(staff_client, case, "extend", reason=typed)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The deadline has passed" in page
    assert "Three archives to search &amp; a &lt;holiday&gt;" in page


def test_a_decision_on_a_request_changed_meanwhile_gets_409(staff_client: FlaskClient) -> None:
    case = make_request("access", "in_review")
    seen = page_form(staff_client, case)
    engine.fire(case, "approve", actor=Actor("user:99", frozenset({"staff"})))
    db.session.commit()
    # Rejecting is possible from "approved" too, but this person decided on "in review".
    response = staff_client.post(
        f"/console/requests/{case.reference}/transitions",
        data={"trigger": "reject", "reason": "Unfounded.", **seen},
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else changed this request since you opened it" in page
    assert "Release to subject" in page and "Approve release" not in page
    db.session.expire_all()
    assert db.session.get(Request, case.id).state == "approved"


def test_an_unknown_action_gets_409(staff_client: FlaskClient) -> None:
    case = make_request("access", "in_review")
    response = post_action(staff_client, case, "teleport")
    assert response.status_code == 409
    assert "no action &#39;teleport&#39;" in response.get_data(as_text=True)


def test_an_action_without_csrf_token_is_refused(staff_client: FlaskClient) -> None:
    case = make_request("access", "verified")
    response = staff_client.post(
        f"/console/requests/{case.reference}/transitions",
        data={"trigger": "start_collection", "version": str(case.version)},
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Request, case.id).state == "verified"


def test_a_reference_is_found_as_typed_or_read_out(staff_client: FlaskClient) -> None:
    case = make_request("access", "verified")
    typed = case.reference.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    response = staff_client.get(f"/console/requests/{typed}")
    assert response.status_code == 200
    assert case.reference in response.get_data(as_text=True)


def test_an_unknown_reference_gets_a_404_page(staff_client: FlaskClient) -> None:
    response = staff_client.get("/console/requests/0000-0000-0000-0000")
    assert response.status_code == 404
    assert "There is no request with that reference." in response.get_data(as_text=True)


def test_simultaneous_page_views_are_all_served_and_audited(app: Flask, users) -> None:
    make_request("access", "verified")
    clients = [app.test_client() for _ in range(6)]
    for client in clients:
        assert sign_in(client, "staff@example.org").status_code == 302
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def browse(client: FlaskClient) -> None:
        barrier.wait()
        statuses.extend(client.get("/console/").status_code for _ in range(5))

    threads = [threading.Thread(target=browse, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert statuses == [200] * 30
    views = db.session.execute(
        select(func.count(AuditEvent.seq)).where(AuditEvent.action == "queue.view")
    ).scalar_one()
    assert views == 30
    assert audit.verify().intact


def test_staff_add_notes_whose_text_stays_out_of_the_audit_trail(staff_client: FlaskClient
                                                                 ) -> None:
    case = make_request("access", "verified")
    page = f"/console/requests/{case.reference}"
    response = staff_client.post(f"{page}/notes", data={
        "text": "Called her back: she also wants the chat logs.",
        "csrf_token": csrf_token(staff_client, page)})
    assert response.status_code == 302
    shown = staff_client.get(page).get_data(as_text=True)
    assert "Called her back: she also wants the chat logs." in shown
    assert "staff@example.org" in shown
    event = next(e for e in audit.events_for(case.id) if e.action == "note.added")
    assert event.details == {}


def test_an_empty_note_is_refused_with_a_message(staff_client: FlaskClient) -> None:
    case = make_request("access", "verified")
    page = f"/console/requests/{case.reference}"
    response = staff_client.post(f"{page}/notes", data={
        "text": "", "csrf_token": csrf_token(staff_client, page)})
    assert response.status_code == 400
    assert "Write the note first." in response.get_data(as_text=True)


@pytest.mark.parametrize(("received_at", "shown"), [
    (datetime(2026, 3, 4, 23, 30, tzinfo=UTC), "05 Mar 2026 00:30 CET"),
    (datetime(2026, 7, 4, 22, 30, tzinfo=UTC), "05 Jul 2026 00:30 CEST"),
])
def test_times_read_in_the_companys_time_zone(staff_client: FlaskClient, received_at: datetime,
                                             shown: str) -> None:
    case = make_request("access", "in_review", received_at=received_at)
    page = staff_client.get(f"/console/requests/{case.reference}").get_data(as_text=True)
    assert f'<time datetime="{received_at.isoformat()}">{shown}</time>' in page


def test_an_unconfirmed_request_cannot_be_collected(staff_client: FlaskClient) -> None:
    case = make_request("access")
    page = staff_client.get(f"/console/requests/{case.reference}").get_data(as_text=True)
    assert "Not confirmed yet: nothing is collected or shown until it is." in page
    assert "Start collection" not in page
    forced = staff_client.post(f"/console/requests/{case.reference}/transitions", data={
        "trigger": "start_collection", "version": str(case.version),
        "csrf_token": csrf_token(staff_client, f"/console/requests/{case.reference}")})
    assert forced.status_code == 409
    assert "not possible while the request is &#39;submitted&#39;" in forced.get_data(as_text=True)


def test_the_queue_page_costs_the_same_statements_whatever_its_size(
        app: Flask, users) -> None:
    from sqlalchemy import event

    from tests.factories import make_request
    from tests.fixtures.people import sign_in

    for n in range(30):
        make_request("access", "verified", email=f"p{n}@example.com", name=f"Person {n}")
    client = app.test_client()
    sign_in(client, "staff@example.org")
    counted = {}
    for size in (5, 25):
        app.config["PAGE_SIZE"] = size
        statements: list[str] = []

        def count(*args, seen: list[str] = statements, **kwargs) -> None:
            seen.append(args[2])

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            page = client.get("/console/").get_data(as_text=True)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert page.count("Person ") >= size
        counted[size] = len(statements)
    assert counted[5] == counted[25], counted
