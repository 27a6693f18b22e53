"""Guards of the correction workflow."""

from typing import cast

from transitions import EventData

from dsr.corrections import TO_APPLY, changes_of
from dsr.models import Request


def every_change_decided(event: EventData) -> bool:
    """Decide every proposed change first: approve it or reject it with a reason."""
    return all(c.state != "proposed" for c in changes_of(cast(Request, event.model)))


def a_change_approved(event: EventData) -> bool:
    """No change was approved, so there is nothing to apply: close the request instead."""
    return any(c.state in TO_APPLY for c in changes_of(cast(Request, event.model)))


def every_approved_change_applied(event: EventData) -> bool:
    """Every approved change must be written and confirmed (or done by hand) first."""
    return not any(c.state in TO_APPLY for c in changes_of(cast(Request, event.model)))


def a_change_applied(event: EventData) -> bool:
    """No change was made (each approved one was stopped): close the request instead."""
    return any(c.state == "applied" for c in changes_of(cast(Request, event.model)))
