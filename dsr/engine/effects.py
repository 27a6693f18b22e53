"""Effects run after a transition; they write only through the database session, inside the
same transaction: the request's own columns, and e-mail to the outbox."""

from typing import cast

from transitions import EventData

from dsr import deadlines, notify
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
    """Move the deadline by two further months (Art. 12(3)) from where the clock started, keep
    the reason the subject is told, and mark the one extension used."""
    request = cast(Request, event.model)
    request.due_at = deadlines.due_at(request.verified_at or request.received_at, months=3)
    request.extended_at = utcnow()
    request.extension_reason = event.kwargs["reason"].strip()


def tell_ready(event: EventData) -> None:
    """Release the answer: keep it as it is now, and mail the subject a sign-in link to it,
    never the data itself."""
    from flask import current_app

    from dsr.portal.subject import send_sign_in_link
    from dsr.report import compile_report

    request = cast(Request, event.model)
    request.released_at = utcnow()
    request.answer = compile_report(request, request.released_at)
    send_sign_in_link(request.requester_email, kind="ready", template="ready",
                      request_id=request.id, name=request.requester_name,
                      reference=request.reference,
                      sign_in=notify.public_url("subject.sign_in"),
                      days=current_app.config["REPORT_AVAILABLE_DAYS"])


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


def start_cooling_off(event: EventData) -> None:
    """Hold approved e-mail changes for the cooling-off period (told to the old address)."""
    from dsr.corrections import start_cooling_off as hold

    hold(cast(Request, event.model))


def tell_decisions(event: EventData) -> None:
    """Tell the subject each change's decision, with reasons and rights on a rejection."""
    from dsr.corrections.notices import tell_decisions as tell

    tell(cast(Request, event.model))


def tell_recipients(event: EventData) -> None:
    """Tell every recipient of a corrected source of the rectification (Art. 19)."""
    from dsr.corrections.notices import tell_recipients as tell

    tell(cast(Request, event.model))


def tell_applied(event: EventData) -> None:
    """Tell the subject their corrections are made, and who was told."""
    from dsr.corrections.notices import tell_applied as tell

    tell(cast(Request, event.model))


def end_changes(event: EventData) -> None:
    """A correction request rejected or withdrawn as a whole: its changes not yet made end
    with it (rejected with the request's reason, or withdrawn)."""
    from dsr.corrections import end_open_changes

    request = cast(Request, event.model)
    end_open_changes(request, rejected=event.event.name == "reject")
