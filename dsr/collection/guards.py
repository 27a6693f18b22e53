"""Guards about collection, for any workflow that collects."""

from typing import cast

from transitions import EventData

from dsr.adapters.registry import configured
from dsr.collection import runs_of
from dsr.models import Request


def every_source_answered(event: EventData) -> bool:
    """Every source must have answered first: wait for them, or ask the failed ones again."""
    runs = runs_of(cast(Request, event.model))
    if configured() and not runs:
        return False  # not started yet
    return all(run.state == "done" for run in runs.values())
