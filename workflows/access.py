"""Access requests (GDPR Art. 15): the subject asks what the company holds on them."""

from workflows import Workflow
from workflows.common import (
    COLLECTED,
    EXPIRY,
    START_COLLECTION,
    extension,
    rejection,
    verification,
    withdrawal,
)

OPEN = ["verified", "collecting", "in_review", "approved"]

WORKFLOW: Workflow = {
    "name": "access",
    "initial": "submitted",
    "states": [
        "submitted", "verified", "collecting", "in_review", "approved", "fulfilled", "closed",
        "rejected", "withdrawn", "expired",
    ],
    "final": ["closed", "rejected", "withdrawn", "expired"],
    "answered": ["fulfilled", "closed", "rejected", "withdrawn", "expired"],
    "transitions": [
        *verification(),
        {"trigger": "start_collection", "label": "Start collection", "source": ["verified"],
         "dest": "collecting", "roles": ["staff"], "after": [START_COLLECTION]},
        {"trigger": "finish_collection", "label": "Collection finished",
         "source": ["collecting"], "dest": "in_review", "roles": ["staff", "system"],
         "conditions": [COLLECTED]},
        {"trigger": "approve", "label": "Approve release", "source": ["in_review"],
         "dest": "approved", "roles": ["staff"]},
        {"trigger": "release", "label": "Release to subject", "source": ["approved"],
         "dest": "fulfilled", "roles": ["staff", "system"],
         "after": ["dsr.access.effects.tell_ready"]},
        {"trigger": "close", "label": "Close", "source": ["fulfilled"], "dest": "closed",
         "roles": ["staff", "system"]},
        rejection(OPEN),
        withdrawal(OPEN),
        extension(OPEN),
    ],
    "periodic": [EXPIRY],
}
