"""Correction requests (GDPR Art. 16 and 19): the subject proposes changes, staff read what the
sources hold now and decide each change, approved changes are written back and read again, and
the recipients of the corrected data are told.

Each proposed change keeps its own small state beside this one (dsr.models.corrections), so
that partial approval is normal and one slow source holds back only its own changes. After
"decide", dsr applies the approved changes at once, or closes the request when none was.
"""

from workflows import Transition, Workflow
from workflows.common import (
    COLLECTED,
    EXPIRY,
    START_COLLECTION,
    extension,
    rejection,
    verification,
    withdrawal,
)

GUARDS = "dsr.corrections.guards"
EFFECTS = "dsr.corrections.effects"
JOBS = "dsr.corrections.jobs"

OPEN = ["verified", "collecting", "in_review"]


def ending(transition: Transition) -> Transition:
    """A transition that ends the request also ends its changes not decided or not made."""
    return {**transition, "after": [*transition.get("after", []), f"{EFFECTS}.end_changes"]}


WORKFLOW: Workflow = {
    "name": "correction",
    "initial": "submitted",
    "states": [
        "submitted", "verified", "collecting", "in_review", "decided", "applying", "applied",
        "closed", "rejected", "withdrawn", "expired",
    ],
    "final": ["closed", "rejected", "withdrawn", "expired"],
    # Once the decisions are told, the request is answered (Art. 12(3)): writing them back
    # and telling recipients follows.
    "answered": ["decided", "applying", "applied", "closed", "rejected", "withdrawn",
                 "expired"],
    "transitions": [
        *verification(),
        {"trigger": "start_collection", "label": "Read current values", "source": ["verified"],
         "dest": "collecting", "roles": ["staff"], "after": [START_COLLECTION]},
        {"trigger": "finish_collection", "label": "Collection finished",
         "source": ["collecting"], "dest": "in_review", "roles": ["staff", "system"],
         "conditions": [COLLECTED]},
        {"trigger": "decide", "label": "Send decisions", "source": ["in_review"],
         "dest": "decided", "roles": ["staff"],
         "conditions": [f"{GUARDS}.every_change_decided"],
         "after": [f"{EFFECTS}.start_cooling_off", f"{EFFECTS}.tell_decisions"],
         "jobs": [f"{JOBS}.apply_or_close"]},
        {"trigger": "apply", "label": "Apply approved changes", "source": ["decided"],
         "dest": "applying", "roles": ["staff", "system"],
         "conditions": [f"{GUARDS}.a_change_approved"], "after": [f"{EFFECTS}.write_back"]},
        {"trigger": "confirm_applied", "label": "Confirm applied", "source": ["applying"],
         "dest": "applied", "roles": ["staff", "system"],
         "conditions": [f"{GUARDS}.every_approved_change_applied", f"{GUARDS}.a_change_applied"],
         "after": [f"{EFFECTS}.tell_recipients", f"{EFFECTS}.tell_applied"]},
        # From applying: every approved change was stopped by its old address.
        {"trigger": "close", "label": "Close", "source": ["applied", "decided", "applying"],
         "dest": "closed", "roles": ["staff", "system"],
         "conditions": [f"{GUARDS}.every_approved_change_applied"]},
        ending(rejection(OPEN)),
        ending(withdrawal(OPEN)),
        extension(OPEN),
    ],
    "periodic": [EXPIRY, {"job": f"{JOBS}.apply_due", "crontab": "*/5 * * * *"}],
    "retention": ["dsr.corrections.retention.VALUES"],
}
