"""Random sequences of triggers, by random roles, on random requests: after every step the
state matches a model of the workflows, and the audit chain is intact."""

from datetime import date, timedelta

from flask import Flask
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

import workflows
from dsr import audit, engine
from dsr.actors import Actor
from dsr.extensions import db
from dsr.models import AuditEvent, Request
from tests.factories import make_request

WORKFLOWS = workflows.load()
TRIGGERS = sorted({t["trigger"] for w in WORKFLOWS.values() for t in w["transitions"]})
ROLES = ["staff", "legal", "admin", "subject", "system"]


# The data each field takes when given; a field missing, or given to a trigger that does not
# take it, is refused.
VALUES = {"reason": "Stated reason.", "delivery": "courier",
          "until": (date.today() + timedelta(days=30)).isoformat()}
# Triggers whose guards need more than the request (these requests have no proposed changes,
# so nothing was approved and nothing applied).
# Approving a disclosure needs a signed-in account other than its opener (four eyes).
NEEDS_MORE = {("correction", "apply"), ("correction", "confirm_applied"),
              ("disclosure", "approve")}


def predict(kind: str, state: str, trigger: str, role: str, given: set[str], extended: bool
            ) -> str | None:
    """Return the state a trigger should lead to, or None if the engine must refuse it."""
    for t in WORKFLOWS[kind]["transitions"]:
        if t["trigger"] != trigger or state not in t["source"]:
            continue
        if role not in t["roles"] or given != set(t.get("fields", [])) \
                or (kind, trigger) in NEEDS_MORE:
            return None
        if trigger == "extend" and extended:
            return None
        return t["dest"] or state
    return None


def test_random_trigger_sequences_keep_state_and_audit_chain_sound(sqlite_app: Flask) -> None:
    moved: list[str] = []

    class Lifecycle(RuleBasedStateMachine):
        cases = Bundle("cases")

        def __init__(self) -> None:
            super().__init__()
            self.expected: dict[int, str] = {}
            self.extended: set[int] = set()
            self.moves: dict[int, int] = {}

        @rule(target=cases, kind=st.sampled_from(sorted(WORKFLOWS)))
        def open_request(self, kind: str) -> int:
            case = make_request(kind)
            self.expected[case.id] = case.state
            self.moves[case.id] = 0
            return case.id

        @rule(case_id=cases, data=st.data())
        def fire(self, case_id: int, data: st.DataObject) -> None:
            case = db.session.get(Request, case_id)
            assert case is not None
            # Mostly what the workflow offers from here (trigger, role, reason), sometimes
            # anything at all, so that both moves and refusals are exercised.
            leaving = [t for t in WORKFLOWS[case.type]["transitions"] if case.state in t["source"]]
            if leaving and data.draw(st.integers(0, 3), label="offered") > 0:
                spec = data.draw(st.sampled_from(leaving), label="offered transition")
                trigger = spec["trigger"]
                role = data.draw(st.sampled_from(spec["roles"]), label="role")
                given = set(spec.get("fields", []))
            else:
                trigger = data.draw(st.sampled_from(TRIGGERS), label="trigger")
                role = data.draw(st.sampled_from(ROLES), label="role")
                given = {"reason"} if data.draw(st.booleans(), label="reason") else set()
            expected = predict(case.type, case.state, trigger, role, given,
                               case_id in self.extended)
            fields = {name: VALUES[name] for name in given}
            try:
                engine.fire(case, trigger, actor=Actor(f"test:{role}", frozenset({role})),
                            **fields)
                db.session.commit()
            except engine.TransitionError:
                db.session.rollback()
                assert expected is None, f"{trigger} by {role} should have led to {expected}"
                return
            assert expected == case.state
            self.expected[case_id] = expected
            self.moves[case_id] += 1
            moved.append(case.state)
            if trigger == "extend":
                self.extended.add(case_id)

        @invariant()
        def states_match_the_model(self) -> None:
            for case_id, state in self.expected.items():
                assert db.session.get(Request, case_id).state == state

        @invariant()
        def every_move_has_exactly_one_audit_event(self) -> None:
            for case_id, moves in self.moves.items():
                count = db.session.execute(
                    select(func.count(AuditEvent.seq)).where(
                        AuditEvent.request_id == case_id,
                        AuditEvent.action == "request.transition",
                    )
                ).scalar_one()
                assert count == moves

        @invariant()
        def audit_chain_is_intact(self) -> None:
            assert audit.verify().intact

    run_state_machine_as_test(
        Lifecycle,
        settings=settings(
            max_examples=60, stateful_step_count=30, deadline=None, derandomize=True
        ),
    )
    # The run must have exercised the workflows, not just their refusals.
    assert len(moved) > 100
    assert {"collecting", "rejected", "withdrawn", "expired", "legal_review"} <= set(moved)
