"""What every page of one request shows, the staff console's and the legal register's alike."""

from typing import Any

from sqlalchemy import select

from dsr import audit, collection, engine
from dsr.actors import Actor
from dsr.extensions import db
from dsr.models import AuditEvent, Request, User


def viewed(case: Request, actor: Actor, action: str) -> dict[str, Any]:
    """Audit that `actor` opened the request's page (it shows personal data) as `action`,
    commit that, and return what every request page shows: the actions `actor` may take, the
    history with the accounts behind it, and each source's collection run."""
    audit.record(action, actor=actor, request_id=case.id)
    db.session.commit()
    events = audit.events_for(case.id)
    return {
        "actions": engine.available(case, actor),
        "events": events,
        "actors": actor_names(events),
        "runs": sorted(collection.runs_of(case).values(), key=lambda r: r.source),
    }


def actor_names(events: list[AuditEvent]) -> dict[str, str]:
    """Name the staff accounts behind `user:<id>` actors, in one query."""
    ids = {int(e.actor.removeprefix("user:")) for e in events if e.actor.startswith("user:")}
    rows = db.session.execute(select(User.id, User.email).where(User.id.in_(ids))).all()
    return {f"user:{user_id}": email for user_id, email in rows}
