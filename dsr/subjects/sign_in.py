"""Signing subjects in without a password: a single-use link mailed to an address they have
confirmed, and the session it starts in the browser that presses it."""

from datetime import datetime, timedelta

from flask import current_app, session
from sqlalchemy import update

from dsr import notify
from dsr.database import changed_rows, utcnow
from dsr.extensions import db
from dsr.models import SubjectSignIn
from dsr.subjects.links import SIGN_IN, LinkInvalid


def send_sign_in_link(email: str, kind: str = "sign-in", template: str = "sign_in",
                      request_id: int | None = None, **context: object) -> None:
    """Queue an e-mail with a fresh single-use sign-in link for `email`."""
    link = SubjectSignIn(email=email)
    db.session.add(link)
    db.session.flush()
    token = SIGN_IN.issue(s=link.id)
    notify.enqueue(kind, email, template, request_id=request_id,
                   link=notify.public_url("subject.session_link", token=token),
                   minutes=current_app.config["SIGN_IN_LINK_MINUTES"], **context)


def sign_in_link(token: str) -> SubjectSignIn:
    """The sign-in a link's token names, used or not; raises LinkExpired or LinkInvalid."""
    link = db.session.get(SubjectSignIn, SIGN_IN.read(token).get("s"))
    if link is None:
        raise LinkInvalid(SIGN_IN.salt)
    return link


def claim_sign_in(link: SubjectSignIn) -> bool:
    """Spend the link, in one statement so that two presses at once cannot both sign in; tell
    whether this press did."""
    return changed_rows(db.session.execute(
        update(SubjectSignIn)
        .where(SubjectSignIn.id == link.id, SubjectSignIn.used_at.is_(None))
        .values(used_at=utcnow())
    )) == 1


def start_session(email: str) -> None:
    """Remember in this browser's session, for SUBJECT_SESSION_MINUTES, that it reads `email`."""
    session.clear()
    minutes = current_app.config["SUBJECT_SESSION_MINUTES"]
    session["subject"] = {"email": email,
                          "until": (utcnow() + timedelta(minutes=minutes)).isoformat()}


def signed_in_email() -> str | None:
    """The address this browser proved it reads, while its subject session lasts."""
    data = session.get("subject")
    if not isinstance(data, dict):
        return None
    if datetime.fromisoformat(data["until"]) < utcnow():
        session.pop("subject", None)
        return None
    return str(data["email"])


def end_session() -> None:
    """Forget the subject in this browser."""
    session.pop("subject", None)
