"""Effects run after a transition; they change only the request, inside the same transaction."""

from typing import cast

from transitions import EventData

from dsr import deadlines
from dsr.database import utcnow
from dsr.models import Request


def keep_reason(event: EventData) -> None:
    """Store the reason given with a decision on the request (never in the audit trail)."""
    request = cast(Request, event.model)
    request.decision_reason = event.kwargs["reason"].strip()


def start_clock(event: EventData) -> None:
    """The subject proved who they are: the clock, paused while dsr waited for that, runs
    from now, and the link that proved it is spent (EDPB Guidelines 01/2022, para 159)."""
    request = cast(Request, event.model)
    request.verified_at = utcnow()
    request.verify_nonce = None
    request.due_at = deadlines.due_at(request.verified_at)


def extend_due_date(event: EventData) -> None:
    """Move the deadline by two further months (Art. 12(3)), keep the reason the subject is
    told, and mark the one extension used."""
    request = cast(Request, event.model)
    request.due_at = deadlines.due_at(request.received_at, months=3)
    request.extended_at = utcnow()
    request.extension_reason = event.kwargs["reason"].strip()
