"""Effects every workflow may use; they change only the request, in the same transaction. A
workflow's own effects live in its package."""

from typing import cast

from transitions import EventData

from dsr import deadlines
from dsr.database import utcnow
from dsr.models import Request


def keep_reason(event: EventData) -> None:
    """Store the reason given with a decision on the request (never in the audit trail)."""
    request = cast(Request, event.model)
    request.decision_reason = event.kwargs["reason"].strip()


def extend_due_date(event: EventData) -> None:
    """Move the deadline by two further months (Art. 12(3)) from where the clock started, keep
    the reason the subject is told, and mark the one extension used."""
    request = cast(Request, event.model)
    request.due_at = deadlines.due_at(request.verified_at or request.received_at, months=3)
    request.extended_at = utcnow()
    request.extension_reason = event.kwargs["reason"].strip()
