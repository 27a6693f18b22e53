"""What dsr fires itself once a job has done its part (a collection that every source
answered, a correction whose decisions were sent): in a transaction of its own."""

import logging

from dsr import engine
from dsr.actors import SYSTEM
from dsr.extensions import db
from dsr.models import Request

log = logging.getLogger(__name__)


def follow(request_id: int, trigger: str) -> bool:
    """Fire `trigger` as dsr itself, and commit; a refusal (it is no longer possible, a guard
    says no, or someone moved the request first) leaves it to staff. Return whether it
    moved."""
    request = db.session.get(Request, request_id)
    if request is None:
        return False
    try:
        engine.fire(request, trigger, actor=SYSTEM)
        db.session.commit()
    except engine.TransitionError as error:
        db.session.rollback()
        log.info("request %s: %s was refused (%s)", request_id, trigger, type(error).__name__)
        return False
    return True
