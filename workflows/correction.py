"""Correction requests (GDPR Art. 16 and 19): the subject proposes changes, staff decide."""

from workflows import Workflow
from workflows.common import extension, rejection, verification, withdrawal

OPEN = ["verified", "in_review"]

WORKFLOW: Workflow = {
    "name": "correction",
    "initial": "submitted",
    "states": [
        "submitted", "verified", "in_review", "decided", "applying", "applied", "closed",
        "rejected", "withdrawn", "expired",
    ],
    "final": ["closed", "rejected", "withdrawn", "expired"],
    "answered": ["applied", "closed", "rejected", "withdrawn", "expired"],
    "transitions": [
        *verification(),
        {"trigger": "start_review", "label": "Start review", "source": ["verified"],
         "dest": "in_review", "roles": ["staff"]},
        {"trigger": "decide", "label": "Record decisions", "source": ["in_review"],
         "dest": "decided", "roles": ["staff"]},
        {"trigger": "apply", "label": "Apply approved changes", "source": ["decided"],
         "dest": "applying", "roles": ["staff", "system"]},
        {"trigger": "confirm_applied", "label": "Confirm applied", "source": ["applying"],
         "dest": "applied", "roles": ["staff", "system"]},
        {"trigger": "close", "label": "Close", "source": ["applied", "decided"],
         "dest": "closed", "roles": ["staff", "system"]},
        rejection(OPEN),
        withdrawal(OPEN),
        extension(OPEN),
    ],
}
