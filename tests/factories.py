"""Requests for tests, opened the way dsr opens them and then placed in a given state."""

from datetime import datetime

from sqlalchemy import select

from dsr import engine
from dsr.actors import SUBJECT
from dsr.extensions import db
from dsr.models import Disclosure, Request, User, UserRole


def make_request(
    kind: str = "access",
    state: str | None = None,
    *,
    email: str = "subject@example.com",
    name: str = "Sam Subject",
    received_at: datetime | None = None,
) -> Request:
    """Open a request and, for a test's starting point, put it straight into `state`."""
    case = engine.open_request(
        kind, actor=SUBJECT, requester_email=email, requester_name=name, received_at=received_at
    )
    if kind == "disclosure":
        db.session.add(Disclosure(
            request_id=case.id, opened_by=opener().id, channel="email",
            authority="Landeskriminalamt Test", country="DE",
            authenticity_check="Called back the switchboard on its published number.",
            authenticity_result="confirmed", instrument="court_order",
            citation="AG Test 12 Gs 34/26", targets=[{"kind": "email", "value": email}],
            data_types=["subscriber"], subject_keys=[f"email:{email}"]))
    if state is not None:
        case.state = state
    db.session.commit()
    return case


def opener(email: str = "opener@example.org") -> User:
    """The legal account that opens disclosure records in tests (or another legal one)."""
    user = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    if user is None:
        user = User(email=email, password_hash="-", roles=[UserRole(role="legal")])
        db.session.add(user)
        db.session.flush()
    return user
