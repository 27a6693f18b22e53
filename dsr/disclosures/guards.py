"""Guards of the disclosure workflow."""

from datetime import date
from typing import cast

from flask import current_app
from transitions import EventData

from dsr import disclosures
from dsr.actors import Actor
from dsr.database import utcnow
from dsr.models import Request


def second_pair_of_eyes(event: EventData) -> bool:
    """Whoever opened this record cannot approve it: a second legal officer must (four-eyes
    rule)."""
    if not current_app.config["DISCLOSURE_FOUR_EYES"]:
        return True
    actor = cast(Actor, event.kwargs["actor"])
    return actor.user_id is not None \
        and actor.user_id != disclosures.record_of(cast(Request, event.model)).opened_by


def narrowing_explained(event: EventData) -> bool:
    """Say why the disclosure is narrower than what was asked for."""
    record = disclosures.record_of(cast(Request, event.model))
    return not disclosures.narrowed(record) or bool((record.narrowing_reason or "").strip())


def delivery_named(event: EventData) -> bool:
    """Say how the package was delivered."""
    return event.kwargs.get("delivery") in disclosures.DELIVERY


def until_ahead(event: EventData) -> bool:
    """Give the date the gag order holds until: a date after today (YYYY-MM-DD)."""
    try:
        until = date.fromisoformat(str(event.kwargs.get("until", "")))
    except ValueError:
        return False
    return until > utcnow().date()


def gag_lapsed(event: EventData) -> bool:
    """A gag order is in force: the subject may not be told before it lapses."""
    return disclosures.gag_lapsed(disclosures.record_of(cast(Request, event.model)))


def within_request(event: EventData) -> bool:
    """Approve at least one target and one kind of data, within the range asked for (or
    refuse the request)."""
    record = disclosures.record_of(cast(Request, event.model))
    if record.approved_targets == [] or record.approved_types == []:
        return False
    start, end = record.approved_from, record.approved_to
    return not ((record.range_from and start and start < record.range_from)
                or (record.range_to and end and end > record.range_to)
                or (start and end and end < start))


def subject_reachable(event: EventData) -> bool:
    """There is no address to tell the subject at: the approved targets and the package hold
    none."""
    return bool(disclosures.notice_addresses(disclosures.record_of(cast(Request, event.model))))
