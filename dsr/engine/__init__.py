"""Binds the workflows in workflows/ to requests: fire(request, trigger, actor=..., **data).

One model-less transitions.Machine per workflow, shared by all requests; the request's state
is a column, and its version column makes two concurrent transitions from one state end with
exactly one winner. The engine never commits: the view or command that calls it does. The
jobs a transition declares are recorded with it and handed to the queue after that commit.
"""

from collections.abc import Iterable
from datetime import datetime
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from transitions import EventData, Machine

import workflows
from dsr import audit, deadlines, jobs
from dsr.actors import Actor
from dsr.database import utcnow
from dsr.engine.errors import (
    ConcurrentTransition,
    GuardRefused,
    InvalidTransition,
    RoleNotAllowed,
    TransitionError,
    UnknownTrigger,
)
from dsr.extensions import db
from dsr.models import Request, normalise_reference
from dsr.names import resolve
from workflows import Transition, Workflow

__all__ = [
    "ConcurrentTransition",
    "GuardRefused",
    "InvalidTransition",
    "RoleNotAllowed",
    "TransitionError",
    "UnknownTrigger",
    "available",
    "fields_for",
    "find_request",
    "fire",
    "machine_for",
    "open_request",
    "workflow_for",
]


@cache
def _workflows() -> dict[str, Workflow]:
    return workflows.load()


def workflow_for(request_type: str) -> Workflow:
    """Return the workflow that moves requests of `request_type`."""
    return _workflows()[request_type]


@cache
def machine_for(request_type: str) -> Machine:
    """Return the one shared machine of a workflow, every effect resolved up front.

    Guards are not given to the machine: fire() evaluates them once, itself, so that a
    refusal can say which guard refused and why.
    """
    workflow = workflow_for(request_type)
    machine = Machine(
        model=None,
        states=[{"name": s, "final": s in workflow["final"]} for s in workflow["states"]],
        transitions=[
            {
                "trigger": t["trigger"],
                "source": t["source"],
                "dest": t["dest"],
                "after": [resolve(name) for name in t.get("after", [])],
            }
            for t in workflow["transitions"]
        ],
        initial=workflow["initial"],
        auto_transitions=False,
        send_event=True,
        name=workflow["name"],
    )
    return machine


def find_request(reference: str, types: Iterable[str]) -> Request | None:
    """Return the request with this public reference (as typed or read out) if it is of one
    of `types`."""
    return db.session.execute(
        select(Request).where(
            Request.reference == normalise_reference(reference), Request.type.in_(list(types))
        )
    ).scalar_one_or_none()


def open_request(
    request_type: str,
    *,
    actor: Actor,
    requester_email: str,
    requester_name: str = "",
    received_at: datetime | None = None,
) -> Request:
    """Create a request in its workflow's first state, its deadline set, and audit it."""
    received_at = received_at or utcnow()
    case = Request(
        type=request_type,
        state=workflow_for(request_type)["initial"],
        received_at=received_at,
        due_at=deadlines.due_at(received_at),
        requester_email=requester_email.strip().lower(),
        requester_name=requester_name.strip(),
    )
    db.session.add(case)
    db.session.flush()
    audit.record("request.opened", actor=actor, request_id=case.id, type=request_type)
    return case


def available(request: Request, actor: Actor) -> list[Transition]:
    """Return the transitions `actor` may fire from the request's current state."""
    return [
        t
        for t in workflow_for(request.type)["transitions"]
        if request.state in t["source"] and not actor.roles.isdisjoint(t["roles"])
    ]


def fields_for(request_type: str, trigger: str) -> list[str]:
    """Return the names of the data a trigger takes (such as a reason), if any."""
    return next(
        (t.get("fields", []) for t in workflow_for(request_type)["transitions"]
         if t["trigger"] == trigger),
        [],
    )


def fire(
    request: Request,
    trigger: str,
    /,
    *,
    actor: Actor,
    version: int | None = None,
    **data: str,
) -> None:
    """Move `request` by `trigger` and append the audit event, in the caller's transaction.

    `version` is the request's version when the person deciding last saw it: if the request
    moved since, the decision was taken on stale facts and is refused.
    """
    allowed = [t["trigger"] for t in available(request, actor)]
    if version is not None and version != request.version:
        raise ConcurrentTransition(
            "Someone else changed this request since you opened it; check it again.", allowed
        )
    candidates = [t for t in workflow_for(request.type)["transitions"] if t["trigger"] == trigger]
    if not candidates:
        raise UnknownTrigger(f"{request.type} requests have no action {trigger!r}.", allowed)
    spec = next((t for t in candidates if request.state in t["source"]), None)
    if spec is None:
        raise InvalidTransition(
            f"{trigger!r} is not possible while the request is {request.state!r}.", allowed
        )
    if actor.roles.isdisjoint(spec["roles"]):
        raise RoleNotAllowed(
            f"{trigger!r} needs the role {' or '.join(spec['roles'])}.", allowed
        )
    unexpected = sorted(set(data) - set(spec.get("fields", [])))
    if unexpected:
        raise GuardRefused(f"{trigger!r} takes no {', '.join(unexpected)}.", allowed)

    machine = machine_for(request.type)
    # Guards and effects see the data and who acts (the four-eyes rule needs to know).
    event = EventData(
        machine.get_model_state(request), machine.events[trigger], machine, request,
        args=(), kwargs={**data, "actor": actor},
    )
    for name in spec.get("conditions", []):
        guard = resolve(name)
        if not guard(event):
            raise GuardRefused(guard.__doc__ or f"{name} said no.", allowed)

    try:
        # The transition is recorded first, then what follows from it (e-mail, say).
        audit.record(
            "request.transition",
            actor=actor,
            request_id=request.id,
            trigger=trigger,
            from_state=request.state,
            to_state=spec["dest"] or request.state,
            fields=sorted(data),
        )
        machine.events[trigger].trigger(request, actor=actor, **data)
        db.session.flush()
    except StaleDataError as error:
        raise ConcurrentTransition(
            "Someone else changed this request at the same moment; reload it and try again.",
            allowed,
        ) from error
    for name in spec.get("jobs", []):
        jobs.declare(name, request.id, actor.ref)
