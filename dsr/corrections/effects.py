"""Effects of the correction workflow."""

from typing import cast

from transitions import EventData

from dsr.corrections import end_open_changes, notices, writeback
from dsr.corrections import start_cooling_off as hold
from dsr.models import Request


def start_cooling_off(event: EventData) -> None:
    """Hold approved e-mail changes for the cooling-off period (told to the old address)."""
    hold(cast(Request, event.model))


def write_back(event: EventData) -> None:
    """Queue the writes of the approved changes that may be made now."""
    writeback.start(cast(Request, event.model), event.kwargs["actor"])


def tell_decisions(event: EventData) -> None:
    """Tell the subject each change's decision, with reasons and rights on a rejection."""
    notices.tell_decisions(cast(Request, event.model))


def tell_recipients(event: EventData) -> None:
    """Tell every recipient of a corrected source of the rectification (Art. 19)."""
    notices.tell_recipients(cast(Request, event.model))


def tell_applied(event: EventData) -> None:
    """Tell the subject their corrections are made, and who was told."""
    notices.tell_applied(cast(Request, event.model))


def end_changes(event: EventData) -> None:
    """A correction request rejected or withdrawn as a whole: its changes not yet made end
    with it (rejected with the request's reason, or withdrawn)."""
    end_open_changes(cast(Request, event.model), rejected=event.event.name == "reject")
