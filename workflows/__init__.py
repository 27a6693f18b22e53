"""Declarative workflows: plain data that dsr's engine turns into state machines.

Each workflow names its states, its final states (no way out), the states in which the request
is answered (the legal clock stops), its transitions, and the periodic jobs it needs. A
transition names its trigger, the states it leaves from, the state it enters (None: the state
stays, as for an extension), the roles that may fire it, the data it takes, its guards and
effects, and the jobs that follow it once it is committed, by dotted name; a workflow may also
name the retention rules of its own records (dsr.retention.Rule objects, by dotted name).
Guards, effects, jobs and rules live in the workflow's own package (dsr.access,
dsr.corrections, dsr.disclosures, ...).
Nothing here imports Flask, so the definitions can be drawn and checked on their own; a new
workflow is a new module here and a package of its own, found without an edit elsewhere.
"""

import pkgutil
from importlib import import_module
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
    # Each is called as job(request_id, actor_ref) on the queue, after the commit.
    jobs: NotRequired[list[str]]


class Periodic(TypedDict):
    """A job the workflow needs run on a schedule (called with no arguments)."""

    job: str
    crontab: str  # minute hour day month weekday


class Workflow(TypedDict):
    """A whole workflow: one per request type."""

    name: str
    initial: str
    states: list[str]
    final: list[str]
    answered: list[str]
    transitions: list[Transition]
    periodic: NotRequired[list[Periodic]]
    retention: NotRequired[list[str]]


def load() -> dict[str, Workflow]:
    """Return every workflow by name (the request type it moves): each module of this package
    that defines WORKFLOW."""
    found: dict[str, Workflow] = {}
    for module in pkgutil.iter_modules(__path__):
        workflow: Workflow | None = getattr(import_module(f"{__name__}.{module.name}"),
                                            "WORKFLOW", None)
        if workflow is not None:
            found[workflow["name"]] = workflow
    return dict(sorted(found.items()))
