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
    """Expire requests whose confirmation link lapsed unused and tell the address so, each in
    its own transaction; return how many. Commits (a periodic job, and `flask requests
    expire-unverified`)."""
    hours = int(current_app.config["VERIFY_LINK_HOURS"])
    stale = db.session.execute(
        select(Request).where(Request.state == "submitted",
                              Request.received_at < utcnow() - timedelta(hours=hours))
    ).scalars().all()
    expired = 0
    for case in stale:
        try:
            engine.fire(case, "expire", actor=actor)
            case.verify_nonce = None
            notify.enqueue("expired", case.requester_email, "expired", request_id=case.id,
                           name=case.requester_name, hours=hours,
                           days=current_app.config["RETENTION_DAYS"]["unconfirmed_requests"],
                           link=notify.public_url("portal.new_request"))
            db.session.commit()
            expired += 1
        except engine.TransitionError:  # confirmed at that moment, or expired by another run
            db.session.rollback()
    return expired
