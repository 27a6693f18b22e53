"""Requests for tests, opened the way dsr opens them and then placed in a given state."""

from datetime import datetime

from dsr import engine
from dsr.actors import SUBJECT
from dsr.extensions import db
from dsr.models import Request


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
    if state is not None:
        case.state = state
    db.session.commit()
    return case
