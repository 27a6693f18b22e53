"""Jobs of the disclosure workflow: collect only what was approved, about whom it was
approved; and tell the subjects of disclosures whose gag order lapsed."""

from dsr import collection, disclosures
from dsr.actors import SYSTEM, Actor
from dsr.extensions import db
from dsr.models import Request

SCOPE = "dsr.disclosures.scope"


def collect(request_id: int, actor_ref: str) -> None:
    """Ask every source about the approved targets, keeping only what was approved."""
    request = db.session.get(Request, request_id)
    if request is not None and request.state == "collecting":
        collection.start(request, Actor.of(actor_ref), scope=SCOPE)
        db.session.commit()


def notify_due() -> None:
    """Tell the subjects whose gag order lapsed (daily)."""
    disclosures.notify_due(SYSTEM)
