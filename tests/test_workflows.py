"""Meta-tests over the workflow definitions: every trigger tested, everything resolves, final
states are final, every state can be reached, and the definitions need no Flask."""

import subprocess
import sys

import pytest

import workflows
from dsr.names import resolve
from tests.cases import TRIGGER_CASES

WORKFLOWS = workflows.load()
KNOWN_ROLES = {"staff", "legal", "admin", "subject", "system"}


def all_transitions():
    for name, workflow in WORKFLOWS.items():
        for transition in workflow["transitions"]:
            yield name, transition


def test_every_trigger_of_every_workflow_has_a_test() -> None:
    defined = {(name, t["trigger"], s) for name, t in all_transitions() for s in t["source"]}
    tested = {(w, trigger, source) for w, trigger, source, *_ in TRIGGER_CASES}
    assert defined - tested == set(), "triggers (from these states) without a test case"
    assert tested - defined == set(), "test cases for triggers the workflows do not have"


@pytest.mark.parametrize(("name", "transition"), list(all_transitions()))
def test_every_guard_and_effect_resolves(name: str, transition: workflows.Transition) -> None:
    for dotted in [*transition.get("conditions", []), *transition.get("after", [])]:
        assert callable(resolve(dotted)), dotted
    for dotted in transition.get("conditions", []):
        assert resolve(dotted).__doc__, f"{dotted} needs a docstring: it is the refusal message"


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_final_states_have_no_exits(name: str) -> None:
    workflow = WORKFLOWS[name]
    leaving = {s for t in workflow["transitions"] for s in t["source"]}
    assert set(workflow["final"]) & leaving == set()


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_definitions_are_consistent(name: str) -> None:
    workflow = WORKFLOWS[name]
    states = set(workflow["states"])
    assert workflow["name"] == name
    assert workflow["initial"] in states
    assert set(workflow["final"]) <= set(workflow["answered"]) <= states
    for t in workflow["transitions"]:
        assert set(t["source"]) <= states, t["trigger"]
        assert t["dest"] is None or t["dest"] in states, t["trigger"]
        assert t["roles"] and set(t["roles"]) <= KNOWN_ROLES, t["trigger"]
        assert t["label"], t["trigger"]
    # One trigger never leaves one state two ways: the console shows one button per trigger.
    pairs = [(t["trigger"], s) for t in workflow["transitions"] for s in t["source"]]
    assert len(pairs) == len(set(pairs))


def reachable(edges: set[tuple[str, str]], start: str) -> set[str]:
    """Return the states that `edges` lead to from `start`, `start` included."""
    reached, frontier = {start}, [start]
    while frontier:
        here = frontier.pop()
        for source, dest in edges:
            if source == here and dest not in reached:
                reached.add(dest)
                frontier.append(dest)
    return reached


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_every_state_is_reachable_and_every_open_state_can_end(name: str) -> None:
    workflow = WORKFLOWS[name]
    edges = {
        (s, t["dest"]) for t in workflow["transitions"] for s in t["source"] if t["dest"]
    }
    assert reachable(edges, workflow["initial"]) == set(workflow["states"])
    for state in set(workflow["states"]) - set(workflow["final"]):
        assert reachable(edges, state) & set(workflow["final"]), f"{state} can never end"


def test_workflows_import_without_flask() -> None:
    code = (
        "import sys, workflows; workflows.load(); "
        "assert not any(m == 'flask' or m.startswith('flask.') for m in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
