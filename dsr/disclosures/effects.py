"""Effects of the disclosure workflow."""

from datetime import date
from typing import cast

from sqlalchemy import delete
from transitions import EventData

from dsr import collection, disclosures, notify
from dsr.database import utcnow
from dsr.extensions import db
from dsr.models import FoundItem, Request

SCOPE = "dsr.disclosures.scope"


def record_approval(event: EventData) -> None:
    """Keep who approved the disclosure and when; what was approved, if not narrowed, is
    what was asked for."""
    record = disclosures.record_of(cast(Request, event.model))
    record.approved_by, record.approved_at = event.kwargs["actor"].user_id, utcnow()
    if record.approved_targets is None:
        record.approved_targets = record.targets
    if record.approved_types is None:
        record.approved_types = record.data_types
    if record.approved_from is None and record.approved_to is None:
        record.approved_from, record.approved_to = record.range_from, record.range_to
    # Only who was approved counts as this disclosure's subject from now on.
    record.subject_keys = sorted(disclosures.approved_keys(record))


def start_collection(event: EventData) -> None:
    """Queue the collection from every source about the approved targets, keeping only what
    was approved (dsr.disclosures.scope)."""
    collection.start(cast(Request, event.model), event.kwargs["actor"], scope=SCOPE)


def seal_package(event: EventData) -> None:
    """Build the package, its manifest and its SHA-256 from what collection kept."""
    disclosures.seal_package(cast(Request, event.model))


def record_delivery(event: EventData) -> None:
    """Keep how and when the package was delivered."""
    record = disclosures.record_of(cast(Request, event.model))
    record.delivery, record.delivered_at = event.kwargs["delivery"], utcnow()


def keep_gag(event: EventData) -> None:
    """Keep the gag order's legal basis and the date it holds until."""
    record = disclosures.record_of(cast(Request, event.model))
    record.gag_basis = event.kwargs["reason"].strip()
    record.gag_until = date.fromisoformat(event.kwargs["until"])


def tell_subject_of_disclosure(event: EventData) -> None:
    """Tell the subject what was disclosed to whom, on what basis (no data in the e-mail)."""
    request = cast(Request, event.model)
    record = disclosures.record_of(request)
    record.notified_at = utcnow()
    for address in disclosures.notice_addresses(record):
        notify.enqueue(
            "disclosure-notice", address, "disclosure_notice",
            request_id=request.id, authority=record.authority,
            instrument=disclosures.INSTRUMENTS[record.instrument], citation=record.citation,
            disclosed_on=(record.delivered_at or utcnow()).strftime("%d %B %Y"),
            kinds=[disclosures.DATA_TYPES[t][0] for t in record.approved_types or []])


def drop_collected(event: EventData) -> None:
    """A disclosure withdrawn by its authority keeps nothing it collected."""
    request = cast(Request, event.model)
    db.session.execute(delete(FoundItem).where(FoundItem.request_id == request.id))
    collection.forget_identity(request)
