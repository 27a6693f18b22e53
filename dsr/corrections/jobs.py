"""Jobs of the correction workflow: read what the sources hold now, make the approved changes
once the decisions are sent (or close the request when none was approved), write each
target, and write the changes that came due after their cooling-off."""

from sqlalchemy import select

from dsr import collection, engine
from dsr.actors import Actor
from dsr.corrections import TO_APPLY, changes_of, writeback
from dsr.extensions import db
from dsr.models import Request


def collect(request_id: int, actor_ref: str) -> None:
    """Read the current values from every source; on to review once all answered."""
    request = db.session.get(Request, request_id)
    if request is not None and request.state == "collecting":
        collection.start(request, Actor.of(actor_ref), then="finish_collection")
        db.session.commit()


def apply_or_close(request_id: int, actor_ref: str) -> None:
    """The decisions are told: make the approved changes at once, or close the request."""
    request = db.session.get(Request, request_id)
    if request is not None and request.state == "decided":
        approved = any(c.state in TO_APPLY for c in changes_of(request))
        engine.follow(request_id, "apply" if approved else "close")


def write_back(request_id: int, actor_ref: str) -> None:
    """Queue a write for every target of the request that may be written now."""
    request = db.session.get(Request, request_id)
    if request is not None and request.state == "applying":
        writeback.start(request, Actor.of(actor_ref))
        db.session.commit()


def write_target(target_id: int, actor_ref: str) -> None:
    """Write one target, read it back, and move its change and request on."""
    writeback.write_target(target_id, Actor.of(actor_ref))


def apply_due() -> None:
    """Queue the writes of changes that have come due (e-mail changes after their
    cooling-off)."""
    ids = db.session.execute(
        select(Request.id).where(Request.type == "correction", Request.state == "applying")
    ).scalars().all()
    for request_id in ids:
        write_back(request_id, "system")
