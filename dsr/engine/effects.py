"""Effects run after a transition; they write only through the database session, inside the
same transaction: the request's own columns, and e-mail to the outbox."""

from typing import cast

from transitions import EventData

from dsr import deadlines, notify
from dsr.database import utcnow
from dsr.models import Request
from dsr.subjects.sign_in import send_sign_in_link


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

    from dsr import audit, disclosures
    from dsr.actors import SYSTEM
    from dsr.report import account_ids, compile_report

    request = cast(Request, event.model)
    request.released_at = utcnow()
    request.answer = compile_report(request, request.released_at)
    if disclosures.restricting(request, account_ids(request)):
        # Art. 23: a disclosure under a gag order is left out; the trail says a restriction
        # was applied, and nothing about what it restricts.
        audit.record("request.restricted", actor=SYSTEM, request_id=request.id)
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


def record_approval(event: EventData) -> None:
    """Keep who approved the disclosure and when; what was approved, if not narrowed, is
    what was asked for."""
    from dsr.disclosures import approved_keys, record_of

    record = record_of(cast(Request, event.model))
    record.approved_by, record.approved_at = event.kwargs["actor"].user_id, utcnow()
    if record.approved_targets is None:
        record.approved_targets = record.targets
    if record.approved_types is None:
        record.approved_types = record.data_types
    if record.approved_from is None and record.approved_to is None:
        record.approved_from, record.approved_to = record.range_from, record.range_to
    # Only who was approved counts as this disclosure's subject from now on.
    record.subject_keys = sorted(approved_keys(record))


def seal_package(event: EventData) -> None:
    """Build the package, its manifest and its SHA-256 from what collection kept."""
    from dsr.disclosures import seal_package as seal

    seal(cast(Request, event.model))


def record_delivery(event: EventData) -> None:
    """Keep how and when the package was delivered."""
    from dsr.disclosures import record_of

    record = record_of(cast(Request, event.model))
    record.delivery, record.delivered_at = event.kwargs["delivery"], utcnow()


def keep_gag(event: EventData) -> None:
    """Keep the gag order's legal basis and the date it holds until."""
    from datetime import date

    from dsr.disclosures import record_of

    record = record_of(cast(Request, event.model))
    record.gag_basis = event.kwargs["reason"].strip()
    record.gag_until = date.fromisoformat(event.kwargs["until"])


def tell_subject_of_disclosure(event: EventData) -> None:
    """Tell the subject what was disclosed to whom, on what basis (no data in the e-mail)."""
    from dsr.disclosures import DATA_TYPES, INSTRUMENTS, notice_addresses, record_of

    request = cast(Request, event.model)
    record = record_of(request)
    record.notified_at = utcnow()
    for address in notice_addresses(record):
        notify.enqueue(
            "disclosure-notice", address, "disclosure_notice",
            request_id=request.id, authority=record.authority,
            instrument=INSTRUMENTS[record.instrument], citation=record.citation,
            disclosed_on=(record.delivered_at or utcnow()).strftime("%d %B %Y"),
            kinds=[DATA_TYPES[t][0] for t in record.approved_types or []])


def drop_collected(event: EventData) -> None:
    """A disclosure withdrawn by its authority keeps nothing it collected."""
    from sqlalchemy import delete

    from dsr.extensions import db
    from dsr.models import FoundItem

    request = cast(Request, event.model)
    db.session.execute(delete(FoundItem).where(FoundItem.request_id == request.id))
