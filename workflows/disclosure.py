"""Lawful disclosures (GDPR Art. 4(9), 23): legal decides on an authority's request for data."""

from workflows import Workflow
from workflows.common import EFFECTS, GUARDS

WORKFLOW: Workflow = {
    "name": "disclosure",
    "initial": "received",
    "states": [
        "received", "legal_review", "approved", "refused", "collecting", "package_reviewed",
        "disclosed", "subject_notified", "notification_deferred", "closed", "withdrawn",
    ],
    "final": ["closed", "refused", "withdrawn"],
    "answered": ["refused", "disclosed", "subject_notified", "notification_deferred", "closed",
                 "withdrawn"],
    "transitions": [
        {"trigger": "start_review", "label": "Start legal review", "source": ["received"],
         "dest": "legal_review", "roles": ["legal"]},
        {"trigger": "approve", "label": "Approve disclosure", "source": ["legal_review"],
         "dest": "approved", "roles": ["legal"]},
        {"trigger": "refuse", "label": "Refuse", "source": ["legal_review"], "dest": "refused",
         "roles": ["legal"], "fields": ["reason"], "conditions": [f"{GUARDS}.reason_given"],
         "after": [f"{EFFECTS}.keep_reason"]},
        {"trigger": "start_collection", "label": "Start collection", "source": ["approved"],
         "dest": "collecting", "roles": ["legal"]},
        {"trigger": "review_package", "label": "Package reviewed", "source": ["collecting"],
         "dest": "package_reviewed", "roles": ["legal"]},
        {"trigger": "disclose", "label": "Record disclosure", "source": ["package_reviewed"],
         "dest": "disclosed", "roles": ["legal"]},
        {"trigger": "notify_subject", "label": "Notify subject",
         "source": ["disclosed", "notification_deferred"], "dest": "subject_notified",
         "roles": ["legal", "system"]},
        {"trigger": "defer_notification", "label": "Defer notification (gag order)",
         "source": ["disclosed"], "dest": "notification_deferred", "roles": ["legal"],
         "fields": ["reason"], "conditions": [f"{GUARDS}.reason_given"],
         "after": [f"{EFFECTS}.keep_reason"]},
        {"trigger": "close", "label": "Close", "source": ["subject_notified"], "dest": "closed",
         "roles": ["legal"]},
        {"trigger": "withdraw", "label": "Withdrawn by authority",
         "source": ["received", "legal_review", "approved", "collecting"], "dest": "withdrawn",
         "roles": ["legal"]},
    ],
}
