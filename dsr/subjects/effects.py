"""Effects the workflows that subjects start share (access and correction): the clock starts
when they prove who they are, every source is asked about them, and they are told of a
rejection or an extension."""

from typing import cast

from transitions import EventData

from dsr import collection, deadlines, notify
from dsr.database import utcnow
from dsr.models import Request


def start_clock(event: EventData) -> None:
    """The subject proved who they are: the clock, paused while dsr waited for that, runs
    from now, and the link that proved it is spent (EDPB Guidelines 01/2022, para 159)."""
    request = cast(Request, event.model)
    request.verified_at = utcnow()
    request.verify_nonce = None
    request.due_at = deadlines.due_at(request.verified_at)


def tell_rejection(event: EventData) -> None:
    """Tell the subject the request is refused, why, and their remedies (Art. 12(4))."""
    request = cast(Request, event.model)
    notify.enqueue("rejected", request.requester_email, "rejected", request_id=request.id,
                   name=request.requester_name, reference=request.reference,
                   reason=request.decision_reason)


def tell_extension(event: EventData) -> None:
    """Tell the subject of the extension and its reason within the first month (Art. 12(3))."""
    request = cast(Request, event.model)
    notify.enqueue("extended", request.requester_email, "extended", request_id=request.id,
                   name=request.requester_name, reference=request.reference,
                   reason=request.extension_reason,
                   due=request.due_at.strftime("%d %B %Y"))


def start_collection(event: EventData) -> None:
    """Queue the collection from every source; the request moves on to review once every
    source answered."""
    collection.start(cast(Request, event.model), event.kwargs["actor"], then="finish_collection")
