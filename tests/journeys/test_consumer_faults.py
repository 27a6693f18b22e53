"""Job consumers killed with SIGKILL in the production shape (gunicorn, PostgreSQL, Redis, two
`flask jobs worker` processes): in the middle of a source's lookup, and in the middle of a
write to billing. New consumers finish the request once the dead one's lease has passed; no
source is asked twice for the same run, no target is written twice, the chain verifies."""

import time
from collections.abc import Callable

import pytest

from dsr.demo.standins import query

pytestmark = [pytest.mark.production, pytest.mark.postgresql,
              pytest.mark.xdist_group("production")]

NEW_PHONE = "+49 30 90182777"
WAIT = 60


def until(condition: Callable[[], object], what: str, seconds: float = WAIT) -> None:
    """Wait until `condition()` holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {seconds} s"
        time.sleep(0.02)


def recovered(production, reference: str, state: str) -> None:
    """Sweep until the request reaches `state`, as the periodic sweep would (every minute)."""
    deadline = time.monotonic() + WAIT
    while request_state(production, reference) != state:
        assert time.monotonic() < deadline, \
            f"still {request_state(production, reference)}, not {state}"
        production.cli("jobs", "sweep")
        time.sleep(0.5)


def request_state(production, reference: str) -> str:
    [(state,)] = production.sql("SELECT state FROM requests WHERE reference = %s", reference)
    return str(state)


def runs(production, reference: str) -> dict[str, tuple[str, int]]:
    return {source: (state, attempts) for source, state, attempts in production.sql(
        "SELECT source, source_runs.state, attempts FROM source_runs JOIN requests "
        "ON requests.id = source_runs.request_id WHERE reference = %s", reference)}


def test_a_consumer_killed_in_the_middle_of_a_lookup_loses_nothing(production) -> None:
    me = production.people[12]
    reference = production.confirmed(production.visitor(), "/requests/new", me, type="access")
    billing = production.standins["billing"].app
    analytics = production.standins["analytics"].app
    asked_before = sum(billing.config["CALLS"].values())
    visits_before = sum(analytics.config["CALLS"].values())
    staff = production.signed_in("staff@example.org")
    page = f"/console/requests/{reference}"

    billing.config["DELAY"] = 2  # the consumer is inside billing's lookup for a while
    try:
        assert staff.act(page, "start_collection").status_code == 302
        until(lambda: sum(billing.config["CALLS"].values()) > asked_before,
              "billing asked")
        production.consumers.kill()
    finally:
        billing.config["DELAY"] = 0
    assert runs(production, reference)["billing"] == ("running", 1)
    assert sum(analytics.config["CALLS"].values()) == visits_before, \
        "the others wait for what billing knows"

    production.consumers.start()
    recovered(production, reference, "in_review")
    after = runs(production, reference)
    assert after["billing"] == ("done", 2), "asked again, in a new attempt of the same run"
    assert {name: run for name, run in after.items() if name != "billing"} == {
        "analytics": ("done", 1), "helpdesk": ("done", 1), "chats": ("done", 1),
        "dsr": ("done", 1)}
    review = staff.page(page)
    assert "Transfer domain" in review or me.email in review
    [(done,)] = production.sql(
        "SELECT count(*) FROM audit_events JOIN requests ON requests.id = "
        "audit_events.request_id WHERE reference = %s AND action = 'collection.source_done'",
        reference)
    assert done == 5, "each source's answer recorded once (dsr's own records too)"
    production.verify_audit()


def test_a_consumer_killed_in_the_middle_of_a_write_writes_it_once(production) -> None:
    me = production.people[13]
    subject = production.visitor()
    reference, staff, page = production.phone_change_approved(subject, me, "030 90182777")

    billing = production.standins["billing"].app
    writes_before = billing.config["CALLS"]["UpdateClient"]
    answered_before = billing.config["ANSWERED"]["UpdateClient"]
    billing.config["DELAYS"] = {"UpdateClient": 1.5}  # the write lands, its answer is lost
    try:
        assert staff.act(page, "decide").status_code == 302
        until(lambda: billing.config["CALLS"]["UpdateClient"] > writes_before,
              "billing written")
        production.consumers.kill()
        until(lambda: billing.config["ANSWERED"]["UpdateClient"] > answered_before,
              "the write done in billing")
    finally:
        billing.config["DELAYS"] = {}
    [(state, attempts)] = production.sql(
        "SELECT change_targets.state, change_targets.attempts FROM change_targets "
        "JOIN proposed_changes ON proposed_changes.id = change_targets.change_id "
        "JOIN requests ON requests.id = proposed_changes.request_id WHERE reference = %s",
        reference)
    assert (state, attempts) == ("writing", 1), "the writer died before it could record"

    production.consumers.start()
    recovered(production, reference, "applied")
    assert billing.config["CALLS"]["UpdateClient"] == writes_before + 1, "written once"
    [client] = query(production.company / "billing.sqlite",
                     "SELECT phonenumber FROM tblclients WHERE id = ?", me.id)
    assert client["phonenumber"] == NEW_PHONE
    [(state, attempts)] = production.sql(
        "SELECT change_targets.state, change_targets.attempts FROM change_targets "
        "JOIN proposed_changes ON proposed_changes.id = change_targets.change_id "
        "JOIN requests ON requests.id = proposed_changes.request_id WHERE reference = %s",
        reference)
    assert (state, attempts) == ("confirmed", 2), "read back by the next consumer, not written"
    assert "written and read back" in staff.page(page)
    production.verify_audit()
