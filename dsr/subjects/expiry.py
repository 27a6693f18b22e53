"""Requests never confirmed: expired once their confirmation link lapsed, the address told."""

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from dsr import engine, notify
from dsr.actors import SYSTEM, Actor
from dsr.database import utcnow
from dsr.extensions import db
from dsr.models import Request


def expire_unverified(actor: Actor = SYSTEM) -> int:
    """Expire requests whose confirmation link lapsed unused and tell the address so; return
    how many. Commits (a periodic job, and `flask requests expire-unverified`)."""
    hours = int(current_app.config["VERIFY_LINK_HOURS"])
    stale = db.session.execute(
        select(Request).where(Request.state == "submitted",
                              Request.received_at < utcnow() - timedelta(hours=hours))
    ).scalars().all()
    for case in stale:
        engine.fire(case, "expire", actor=actor)
        case.verify_nonce = None
        notify.enqueue("expired", case.requester_email, "expired", request_id=case.id,
                       name=case.requester_name, hours=hours,
                       link=notify.public_url("portal.new_request"))
    db.session.commit()
    return len(stale)
