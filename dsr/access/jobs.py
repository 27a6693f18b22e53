"""Jobs of the access workflow: collect from every source, then move on to review."""

from dsr import collection
from dsr.actors import Actor
from dsr.extensions import db
from dsr.models import Request


def collect(request_id: int, actor_ref: str) -> None:
    """Ask every source about the subject; the request moves to review once all answered."""
    request = db.session.get(Request, request_id)
    if request is not None and request.state == "collecting":
        collection.start(request, Actor.of(actor_ref), then="finish_collection")
        db.session.commit()
