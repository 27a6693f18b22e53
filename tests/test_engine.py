"""The engine: each trigger moves a request and audits it; refusals are clear errors."""

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask

from dsr import audit, disclosures, engine
from dsr.actors import Actor
from dsr.database import utcnow
from dsr.extensions import db
from dsr.models import AuditEvent, ProposedChange, Request
from tests.cases import TRIGGER_CASES
from tests.factories import make_request, opener

REASON = "The requester asked for the same data twice this week."

def change_in(state: str) -> Callable[[Request], None]:
    """Give the request one proposed change in `state`."""

    def prepare(case: Request) -> None:
        db.session.add(ProposedChange(request_id=case.id, category="phone",
                                      proposed_value="+49 30 1234567", state=state))
        db.session.commit()

    return prepare


# What a trigger's guards need besides its request's state.
PREPARE = {("correction", "apply"): change_in("approved"),
           ("correction", "confirm_applied"): change_in("applied")}


def actor(*roles: str) -> Actor:
    return Actor(f"test:{'+'.join(roles)}", frozenset(roles))


def takes_reason(kind: str, trigger: str) -> bool:
    return "reason" in engine.fields_for(kind, trigger)


# What each field a trigger takes is given in these tests.
FIELD_VALUES = {"reason": REASON, "delivery": "secure_portal",
                "until": (utcnow().date() + timedelta(days=60)).isoformat()}


# The engine alone: what a transition's jobs do next (a correction's decide applies or closes
# it) is tested in the journeys.
@pytest.mark.unconsumed
@pytest.mark.parametrize(("kind", "trigger", "source", "dest", "role"), TRIGGER_CASES)
def test_trigger_moves_the_request_and_audits_it(
    app: Flask, kind: str, trigger: str, source: str, dest: str, role: str
) -> None:
    case = make_request(kind, source)
    data = {name: FIELD_VALUES[name] for name in engine.fields_for(kind, trigger)}
    if (kind, trigger) in PREPARE:
        PREPARE[kind, trigger](case)

    # The four-eyes rule needs an account that is not the one that opened the record.
    doer = Actor(f"user:{opener('second@example.org').id}", frozenset({role})) \
        if (kind, trigger) == ("disclosure", "approve") else actor(role)
    engine.fire(case, trigger, actor=doer, **data)
    db.session.commit()

    db.session.expire_all()
    assert db.session.get(Request, case.id).state == dest
    last = [e for e in audit.events_for(case.id) if e.action == "request.transition"][-1]
    assert last.actor == doer.ref
    assert last.details == {
        "trigger": trigger, "from_state": source, "to_state": dest, "fields": sorted(data),
    }
    if "reason" in data:
        kept = (case.extension_reason if trigger == "extend"
                else disclosures.record_of(case).gag_basis if trigger == "defer_notification"
                else case.decision_reason)
        assert kept == REASON
    assert audit.verify().intact


def test_unknown_trigger_is_refused_with_the_allowed_triggers(app: Flask) -> None:
    case = make_request("access", "in_review")
    with pytest.raises(engine.UnknownTrigger) as refused:
        engine.fire(case, "teleport", actor=actor("staff"))
    assert refused.value.status == 409
    assert "teleport" in refused.value.message
    assert refused.value.allowed == ["approve", "reject", "withdraw", "extend"]


def test_trigger_from_the_wrong_state_is_refused_and_nothing_changes(app: Flask) -> None:
    case = make_request("access", "verified")
    events_before = len(audit.events_for(case.id))
    with pytest.raises(engine.InvalidTransition) as refused:
        engine.fire(case, "approve", actor=actor("staff"))
    db.session.rollback()
    assert refused.value.status == 409
    assert "verified" in refused.value.message
    assert "start_collection" in refused.value.allowed
    assert db.session.get(Request, case.id).state == "verified"
    assert len(audit.events_for(case.id)) == events_before


@pytest.mark.parametrize(
    ("kind", "state", "trigger", "roles"),
    [
        ("access", "in_review", "approve", ("legal",)),
        ("access", "in_review", "approve", ("subject",)),
        ("access", "in_review", "approve", ("admin",)),
        ("access", "submitted", "verify", ("staff",)),
        ("disclosure", "legal_review", "approve", ("staff",)),
        ("access", "submitted", "expire", ("staff", "legal")),
    ],
)
def test_wrong_role_is_refused_with_403(
    app: Flask, kind: str, state: str, trigger: str, roles: tuple[str, ...]
) -> None:
    case = make_request(kind, state)
    with pytest.raises(engine.RoleNotAllowed) as refused:
        engine.fire(case, trigger, actor=actor(*roles))
    assert refused.value.status == 403
    assert trigger in refused.value.message
    assert trigger not in refused.value.allowed


@pytest.mark.parametrize("reason", [None, "", "   \n"])
def test_rejection_without_a_reason_is_refused(app: Flask, reason: str | None) -> None:
    case = make_request("access", "in_review")
    data = {} if reason is None else {"reason": reason}
    with pytest.raises(engine.GuardRefused) as refused:
        engine.fire(case, "reject", actor=actor("staff"), **data)
    assert refused.value.status == 422
    assert refused.value.message == "A reason is required."
    db.session.rollback()
    assert db.session.get(Request, case.id).state == "in_review"


def test_data_a_trigger_does_not_take_is_refused(app: Flask) -> None:
    case = make_request("access", "in_review")
    with pytest.raises(engine.GuardRefused, match="takes no reason"):
        engine.fire(case, "approve", actor=actor("staff"), reason="because")


def test_deadline_extends_once_to_three_months_after_receipt(app: Flask) -> None:
    case = make_request("access", "in_review")
    first_due = case.due_at
    engine.fire(case, "extend", actor=actor("staff"), reason="Forty systems to search.")
    db.session.commit()
    assert case.state == "in_review"
    assert case.extended_at is not None
    assert case.due_at - first_due > timedelta(days=55)

    with pytest.raises(engine.GuardRefused, match="already been extended"):
        engine.fire(case, "extend", actor=actor("staff"), reason="Again.")


def test_a_rejection_after_an_extension_keeps_both_reasons(app: Flask) -> None:
    case = make_request("access", "in_review")
    engine.fire(case, "extend", actor=actor("staff"), reason="Forty systems to search.")
    engine.fire(case, "reject", actor=actor("staff"), reason="Manifestly unfounded.")
    db.session.commit()
    assert (case.extension_reason, case.decision_reason) == (
        "Forty systems to search.", "Manifestly unfounded.",
    )


def test_extension_after_the_due_date_is_refused(app: Flask) -> None:
    case = make_request("access", "in_review", received_at=utcnow() - timedelta(days=40))
    with pytest.raises(engine.GuardRefused, match="deadline has passed"):
        engine.fire(case, "extend", actor=actor("staff"), reason="Too late.")


def test_concurrent_transitions_from_one_state_have_exactly_one_winner(app: Flask) -> None:
    case = make_request("access", "in_review")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(trigger: str, data: dict[str, str]) -> None:
        with app.app_context():
            mine = db.session.get(Request, case.id)
            assert mine is not None and mine.state == "in_review"
            barrier.wait()
            try:
                engine.fire(mine, trigger, actor=actor("staff"), **data)
                db.session.commit()
                outcomes.append(trigger)
            except engine.ConcurrentTransition as error:
                db.session.rollback()
                assert error.status == 409
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=decide, args=("approve", {})),
        threading.Thread(target=decide, args=("reject", {"reason": REASON})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) in (["approve", "refused"], ["refused", "reject"])
    db.session.expire_all()
    final = db.session.get(Request, case.id)
    assert final is not None
    winner = "approved" if "approve" in outcomes else "rejected"
    assert final.state == winner
    transitions = [e for e in audit.events_for(case.id) if e.action == "request.transition"]
    assert [e.details["to_state"] for e in transitions] == [winner]
    assert audit.verify().intact


def test_opening_a_request_sets_its_deadline_and_audits_it(app: Flask) -> None:
    case = make_request("correction")
    assert case.state == "submitted"
    assert case.due_at > case.received_at + timedelta(days=27)
    assert len(case.reference) == 19
    event = db.session.execute(db.select(AuditEvent)).scalars().one()
    assert (event.action, event.request_id, event.details) == (
        "request.opened", case.id, {"type": "correction"},
    )


def test_an_extension_counts_from_when_the_clock_started(app: Flask) -> None:
    from dsr import deadlines

    case = make_request("access", "in_review", received_at=utcnow() - timedelta(days=20))
    case.verified_at = utcnow() - timedelta(days=5)
    db.session.commit()
    engine.fire(case, "extend", actor=actor("staff"), reason="Forty systems to search.")
    assert case.due_at == deadlines.due_at(case.verified_at, months=3)


def test_a_correction_with_an_approved_change_not_made_cannot_be_closed(app: Flask) -> None:
    case = make_request("correction", "decided")
    change_in("approved")(case)
    with pytest.raises(engine.GuardRefused) as refused:
        engine.fire(case, "close", actor=actor("staff"))
    assert "Every approved change must be written" in refused.value.message
