"""Guards: pure predicates over an event. Each docstring is the message shown when it says no."""

from typing import cast

from transitions import EventData

from dsr.actors import Actor
from dsr.database import utcnow
from dsr.models import Request


def reason_given(event: EventData) -> bool:
    """A reason is required."""
    reason = event.kwargs.get("reason")
    return isinstance(reason, str) and bool(reason.strip())


def every_source_answered(event: EventData) -> bool:
    """Every source must have answered first: wait for them, or ask the failed ones again."""
    from dsr.adapters.registry import configured
    from dsr.collection import runs_of

    runs = runs_of(cast(Request, event.model))
    if configured() and not runs:
        return False  # not started yet
    return all(run.state == "done" for run in runs.values())


def not_extended(event: EventData) -> bool:
    """The deadline has already been extended once; it cannot be extended again."""
    return cast(Request, event.model).extended_at is None


def before_due(event: EventData) -> bool:
    """The deadline has passed; an extension must be decided before the due date."""
    return utcnow() <= cast(Request, event.model).due_at


def every_change_decided(event: EventData) -> bool:
    """Decide every proposed change first: approve it or reject it with a reason."""
    from dsr.corrections import changes_of

    return all(c.state != "proposed" for c in changes_of(cast(Request, event.model)))


def a_change_approved(event: EventData) -> bool:
    """No change was approved, so there is nothing to apply: close the request instead."""
    from dsr.corrections import TO_APPLY, changes_of

    return any(c.state in TO_APPLY for c in changes_of(cast(Request, event.model)))


def every_approved_change_applied(event: EventData) -> bool:
    """Every approved change must be written and confirmed (or done by hand) first."""
    from dsr.corrections import TO_APPLY, changes_of

    return not any(c.state in TO_APPLY for c in changes_of(cast(Request, event.model)))


def a_change_applied(event: EventData) -> bool:
    """No change was made (each approved one was stopped): close the request instead."""
    from dsr.corrections import changes_of

    return any(c.state == "applied" for c in changes_of(cast(Request, event.model)))


def second_pair_of_eyes(event: EventData) -> bool:
    """Whoever opened this record cannot approve it: a second legal officer must (four-eyes
    rule)."""
    from flask import current_app

    from dsr.disclosures import record_of

    if not current_app.config["DISCLOSURE_FOUR_EYES"]:
        return True
    actor = cast(Actor, event.kwargs["actor"])
    return actor.user_id is not None \
        and actor.user_id != record_of(cast(Request, event.model)).opened_by


def narrowing_explained(event: EventData) -> bool:
    """Say why the disclosure is narrower than what was asked for."""
    from dsr.disclosures import narrowed, record_of

    record = record_of(cast(Request, event.model))
    return not narrowed(record) or bool((record.narrowing_reason or "").strip())


def delivery_named(event: EventData) -> bool:
    """Say how the package was delivered."""
    from dsr.disclosures import DELIVERY

    return event.kwargs.get("delivery") in DELIVERY


def until_ahead(event: EventData) -> bool:
    """Give the date the gag order holds until: a date after today (YYYY-MM-DD)."""
    from datetime import date

    try:
        until = date.fromisoformat(str(event.kwargs.get("until", "")))
    except ValueError:
        return False
    return until > utcnow().date()


def gag_lapsed(event: EventData) -> bool:
    """A gag order is in force: the subject may not be told before it lapses."""
    from dsr.disclosures import gag_lapsed as lapsed
    from dsr.disclosures import record_of

    return lapsed(record_of(cast(Request, event.model)))


def within_request(event: EventData) -> bool:
    """Approve at least one target and one kind of data, within the range asked for (or
    refuse the request)."""
    from dsr.disclosures import record_of

    record = record_of(cast(Request, event.model))
    if record.approved_targets == [] or record.approved_types == []:
        return False
    start, end = record.approved_from, record.approved_to
    return not ((record.range_from and start and start < record.range_from)
                or (record.range_to and end and end > record.range_to)
                or (start and end and end < start))


def subject_reachable(event: EventData) -> bool:
    """There is no address to tell the subject at: the approved targets and the package hold
    none."""
    from dsr.disclosures import notice_addresses, record_of

    return bool(notice_addresses(record_of(cast(Request, event.model))))
