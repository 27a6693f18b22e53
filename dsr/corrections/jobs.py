"""Jobs of the correction workflow: make the approved changes once the decisions are sent
(or close the request when none was approved), write each target, and write the changes that
came due after their cooling-off."""

from sqlalchemy import select

from dsr.actors import SYSTEM, Actor
from dsr.corrections import TO_APPLY, changes_of, writeback
from dsr.extensions import db
from dsr.followups import follow
from dsr.models import Request


def apply_or_close(request_id: int, actor_ref: str) -> None:
    """The decisions are told: make the approved changes at once, or close the request."""
    request = db.session.get(Request, request_id)
    if request is not None and request.state == "decided":
        approved = any(c.state in TO_APPLY for c in changes_of(request))
        follow(request_id, "apply" if approved else "close")


def write_target(target_id: int, actor_ref: str) -> None:
    """Write one target, read it back, and move its change and request on."""
    writeback.write_target(target_id, Actor.of(actor_ref))


def apply_due() -> None:
    """Queue the writes of changes that have come due (e-mail changes after their
    cooling-off), and settle what a writer that died left unsettled."""
    applying = db.session.execute(
        select(Request).where(Request.type == "correction", Request.state == "applying")
    ).scalars().all()
    for request in applying:
        writeback.start(request, SYSTEM)
        db.session.commit()
        writeback.settle(request)
