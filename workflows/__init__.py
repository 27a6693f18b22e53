"""Declarative workflows: plain data that dsr's engine turns into state machines.

Each workflow names its states, its final states (no way out), the states in which the request
is answered (the legal clock stops), and its transitions. A transition names its
trigger, the states it leaves from, the state it enters (None: the state stays, as for an
extension), the roles that may fire it, the data it takes, and its guards and effects by dotted
name. Nothing here imports Flask, so the definitions can be drawn and checked on their own.
"""

from typing import NotRequired, TypedDict


class Transition(TypedDict):
    """One trigger of a workflow."""

    trigger: str
    label: str
    source: list[str]
    dest: str | None
    roles: list[str]
    fields: NotRequired[list[str]]
    conditions: NotRequired[list[str]]
    after: NotRequired[list[str]]


class Workflow(TypedDict):
    """A whole workflow: one per request type."""

    name: str
    initial: str
    states: list[str]
    final: list[str]
    answered: list[str]
    transitions: list[Transition]


def load() -> dict[str, Workflow]:
    """Return every workflow by name (the request type it moves)."""
    from workflows import access, correction, disclosure

    return {w["name"]: w for w in (access.WORKFLOW, correction.WORKFLOW, disclosure.WORKFLOW)}
