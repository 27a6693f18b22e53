"""Subjects sign in through a single-use link mailed to an address with a confirmed
request."""

from flask import current_app
from itsdangerous import URLSafeTimedSerializer

from dsr import notify
from dsr.extensions import db
from dsr.models import SubjectSignIn


def sign_in_serializer() -> URLSafeTimedSerializer:
    """Signs and reads subjects' sign-in links."""
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="dsr.subject-sign-in")


def send_sign_in_link(email: str, kind: str = "sign-in", template: str = "sign_in",
                      request_id: int | None = None, **context: object) -> None:
    """Queue an e-mail with a fresh single-use sign-in link for `email`."""
    link = SubjectSignIn(email=email)
    db.session.add(link)
    db.session.flush()
    token = sign_in_serializer().dumps({"s": link.id})
    notify.enqueue(kind, email, template, request_id=request_id,
                   link=notify.public_url("subject.session_link", token=token),
                   minutes=current_app.config["SIGN_IN_LINK_MINUTES"], **context)
