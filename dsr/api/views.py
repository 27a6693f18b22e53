"""The JSON API under /api/v1, authenticated with bearer tokens (`flask tokens create`)."""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, abort, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import ValidationError
from sqlalchemy import select

from dsr import audit, collection, engine
from dsr.actors import Actor
from dsr.api.openapi import document, staff_states
from dsr.api.schemas import NewRequest
from dsr.database import utcnow
from dsr.extensions import db
from dsr.models import STAFF_TYPES, ApiToken, AuditEvent, Request, hash_token
from dsr.subjects.intake import submit
from dsr.subjects.limits import public_rate_limits
from dsr.text import MESSAGE, has_control_characters
from dsr.web import transitions

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")

# The query parameters each operation takes (as the OpenAPI document declares them); any
# other is refused, never silently ignored.
QUERY = {"api.list_requests": {"state", "type"}, "api.get_request": {"reveal"}}
BOOLEAN = {"true": True, "false": False}


@blueprint.before_request
def known_parameters_only() -> None:
    taken = QUERY.get(request.endpoint or "", set())
    if unknown := sorted(set(request.args) - taken):
        abort(400, description=f"Unknown query parameter {', '.join(unknown)!r}: this "
                               f"operation takes {', '.join(sorted(taken)) or 'none'}.")


F = TypeVar("F", bound=Callable[..., Any])


def token_required(*roles: str) -> Callable[[F], F]:
    """Let a view run only with a valid bearer token of an account holding one of `roles`."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            row = None
            if scheme.lower() == "bearer" and token:
                row = db.session.execute(
                    select(ApiToken).where(
                        ApiToken.token_hash == hash_token(token.strip()),
                        ApiToken.revoked_at.is_(None),
                    )
                ).scalar_one_or_none()
            if row is None or not row.user.active:
                abort(401, description="A valid bearer token is required.")
            if not row.user.has_role(*roles):
                abort(403, description=f"This needs the role {' or '.join(roles)}.")
            row.last_used_at = utcnow()
            g.actor = Actor.for_user(row.user)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorator


def _case(reference: str) -> Request:
    return engine.find_request(reference, STAFF_TYPES) or abort(
        404, description="There is no request with that id."
    )


def _summary(case: Request) -> dict[str, Any]:
    return {
        "id": case.reference,
        "type": case.type,
        "state": case.state,
        "received_at": case.received_at.isoformat(),
        "due_at": case.due_at.isoformat(),
        "extended": case.extended_at is not None,
        "version": case.version,
    }


@blueprint.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    """The OpenAPI document of this API."""
    return jsonify(document())


@blueprint.post("/requests")
@public_rate_limits
def submit_request() -> ResponseReturnValue:
    """Take a subject's request (no token): 202 and the same answer for every address."""
    try:
        body = NewRequest.model_validate(request.get_json(silent=True) or {})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        # A body the document describes but whose content cannot be taken (an address that
        # cannot receive mail, a value that is not a telephone number): 422; else 400.
        status = 422 if first["type"] == "value_error" else 400
        abort(status, description=f"{where}: {first['msg'].removeprefix('Value error, ')}.")
    case = submit(body.type, str(body.email), body.name.strip(), body.message,
                  [change.proposal() for change in body.changes])
    db.session.commit()
    return jsonify(id=case.reference, state=case.state), 202


@blueprint.get("/requests")
@token_required("staff")
def list_requests() -> ResponseReturnValue:
    """List requests, soonest due first; ?type= and ?state= narrow them (a value that is
    not a type or state staff see is refused, not ignored)."""
    types = list(STAFF_TYPES)
    if "type" in request.args:
        if request.args["type"] not in STAFF_TYPES:
            abort(400, description=f"type must be one of {', '.join(STAFF_TYPES)}.")
        types = [request.args["type"]]
    query = select(Request).where(Request.type.in_(types))
    if "state" in request.args:
        states = staff_states()
        if request.args["state"] not in states:
            abort(400, description=f"state must be one of {', '.join(states)}.")
        query = query.where(Request.state == request.args["state"])
    rows = db.session.execute(
        query.order_by(Request.due_at, Request.id).limit(current_app.config["PAGE_SIZE"])
    ).scalars().all()
    db.session.commit()
    return jsonify(requests=[_summary(case) for case in rows])


@blueprint.get("/requests/<reference>")
@token_required("staff")
def get_request(reference: str) -> ResponseReturnValue:
    """Return one request with its requester and the actions the caller may take."""
    case = _case(reference)
    reveal = BOOLEAN.get(request.args.get("reveal", "false"))
    if reveal is None:
        abort(400, description="reveal must be true or false.")
    audit.record("request.view", actor=g.actor, request_id=case.id, via="api", flag=reveal)
    db.session.commit()
    return jsonify(
        _summary(case)
        | {
            "requester": {"email": case.requester_email, "name": case.requester_name},
            "allowed_triggers": [t["trigger"] for t in engine.available(case, g.actor)],
            "sources": [
                {"name": run.source, "state": run.state, "attempts": run.attempts,
                 "error": run.error, "warnings": run.warnings, "findings": run.findings}
                for run in sorted(collection.runs_of(case).values(), key=lambda r: r.source)
            ],
            "findings": [
                {"category": item.category, "label": item.label, "source": item.source,
                 "value": collection.shown_value(item, reveal), "context": item.context}
                for item in collection.found_items(case)
            ],
        }
    )


@blueprint.post("/requests/<reference>/transitions")
@token_required("staff")
def post_transition(reference: str) -> ResponseReturnValue:
    """Fire a trigger: 200 with the new state, 409 with the allowed triggers, 403, or 422."""
    case = _case(reference)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("trigger"), str):
        abort(400, description='Send a JSON object such as {"trigger": "approve"}.')
    trigger, version = body.pop("trigger"), body.pop("version", None)
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        abort(400, description="version must be the integer the request was read with.")
    unexpected = sorted(set(body) - set(engine.fields_for(case.type, trigger)))
    if unexpected:
        abort(400, description=f"{trigger!r} takes no {', '.join(unexpected)}.")
    if not all(isinstance(v, str) for v in body.values()):
        abort(400, description="Every field other than trigger and version must be a string.")
    if any(has_control_characters(v) for v in body.values()):
        abort(400, description=MESSAGE)
    transitions.fire(case, trigger, actor=g.actor, version=version, given=body)
    return jsonify(_summary(case) | {
        "allowed_triggers": [t["trigger"] for t in engine.available(case, g.actor)],
    })


@blueprint.get("/requests/<reference>/audit")
@token_required("staff")
def get_audit(reference: str) -> ResponseReturnValue:
    """Return the request's audit events, oldest first."""
    case = _case(reference)
    events: list[AuditEvent] = audit.events_for(case.id)
    db.session.commit()
    return jsonify(
        events=[
            {
                "seq": e.seq,
                "occurred_at": e.occurred_at.isoformat(),
                "actor": e.actor,
                "action": e.action,
                "details": e.details,
                "hash": e.hash,
            }
            for e in events
        ]
    )
