"""Signing subjects in without a password: a single-use link mailed to an address they have
confirmed, and the session it starts in the browser that presses it."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app, g, session
from sqlalchemy import update

from dsr import audit, notify
from dsr.actors import SUBJECT
from dsr.database import changed_rows, utcnow
from dsr.extensions import db
from dsr.models import SubjectSignIn
from dsr.subjects.limits import mail_from_form
from dsr.subjects.links import SIGN_IN, LinkInvalid


def send_sign_in_link(email: str, kind: str = "sign-in", template: str = "sign_in",
                      request_id: int | None = None, *, from_form: bool = False,
                      **context: object) -> None:
    """Queue an e-mail with a fresh single-use sign-in link for `email` (within the
    address's e-mail budget, when a public form asked for it)."""
    link = SubjectSignIn(email=email)
    db.session.add(link)
    db.session.flush()
    token = SIGN_IN.issue(s=link.id)
    queue = mail_from_form if from_form else notify.enqueue
    queue(kind, email, template, request_id=request_id,
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


def _hashed(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start_session(link: SubjectSignIn) -> None:
    """Start, from the spent `link`, a session of SUBJECT_SESSION_MINUTES for its address in
    this browser: the cookie holds the sign-in's number and a secret, the server its hash."""
    session.clear()
    secret = secrets.token_urlsafe(32)
    link.session_hash = _hashed(secret)
    link.session_until = utcnow() + timedelta(
        minutes=current_app.config["SUBJECT_SESSION_MINUTES"])
    db.session.commit()
    session["subject"] = {"sign_in": link.id, "secret": secret}


def _live_sign_in() -> SubjectSignIn | None:
    data = session.get("subject")
    if not isinstance(data, dict) or not isinstance(data.get("sign_in"), int) \
            or not isinstance(data.get("secret"), str):
        return None
    link = db.session.get(SubjectSignIn, data["sign_in"])
    if link is None or link.session_hash is None or link.ended_at is not None \
            or link.session_until is None or link.session_until < utcnow() \
            or not hmac.compare_digest(link.session_hash, _hashed(data["secret"])):
        session.pop("subject", None)
        return None
    return link


def signed_in_email() -> str | None:
    """The address this browser proved it reads, while its session lasts on the server."""
    if "subject_email" not in g:
        link = _live_sign_in()
        g.subject_email = link.email if link is not None else None
    email: str | None = g.subject_email
    return email


def end_session() -> None:
    """End every session of the signed-in address, in every browser, and forget it here."""
    link = _live_sign_in()
    if link is not None:
        db.session.execute(update(SubjectSignIn).where(
            SubjectSignIn.email == link.email, SubjectSignIn.ended_at.is_(None),
            SubjectSignIn.session_hash.is_not(None)).values(ended_at=utcnow()))
        audit.record("subject.sign_out", actor=SUBJECT)
        db.session.commit()
    session.pop("subject", None)
    g.pop("subject_email", None)
