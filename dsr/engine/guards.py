"""Guards every workflow may use: pure predicates over an event. Each docstring is the message
shown when it says no. A workflow's own guards live in its package."""

from typing import cast

from transitions import EventData

from dsr.database import utcnow
from dsr.models import Request


def reason_given(event: EventData) -> bool:
    """A reason is required."""
    reason = event.kwargs.get("reason")
    return isinstance(reason, str) and bool(reason.strip())


def not_extended(event: EventData) -> bool:
    """The deadline has already been extended once; it cannot be extended again."""
    return cast(Request, event.model).extended_at is None


def before_due(event: EventData) -> bool:
    """The deadline has passed; an extension must be decided before the due date."""
    return utcnow() <= cast(Request, event.model).due_at
