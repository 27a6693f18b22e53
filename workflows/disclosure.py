"""Lawful disclosures (GDPR Art. 4(9), 23): legal decides on an authority's request for data.

A record is opened by legal, never by the subject. Approval follows a four-eyes rule (someone
other than who opened it) and may narrow what is disclosed; collection asks the sources only
for the approved targets and kinds of data; the package is hashed when reviewed; the subject
is told, or the notice is deferred under a gag order until a date, after which
`flask disclosures notify-due` tells them.
"""

from workflows import Workflow
from workflows.common import COLLECTED

GUARDS = "dsr.disclosures.guards"
EFFECTS = "dsr.disclosures.effects"
JOBS = "dsr.disclosures.jobs"

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
         "dest": "approved", "roles": ["legal"],
         "conditions": [f"{GUARDS}.second_pair_of_eyes", f"{GUARDS}.within_request",
                        f"{GUARDS}.narrowing_explained"],
         "after": [f"{EFFECTS}.record_approval"]},
        {"trigger": "refuse", "label": "Refuse", "source": ["legal_review"], "dest": "refused",
         "roles": ["legal"], "fields": ["reason"],
         "conditions": ["dsr.engine.guards.reason_given"],
         "after": ["dsr.engine.effects.keep_reason"]},
        {"trigger": "start_collection", "label": "Start collection", "source": ["approved"],
         "dest": "collecting", "roles": ["legal"], "after": [f"{EFFECTS}.start_collection"]},
        {"trigger": "review_package", "label": "Package reviewed", "source": ["collecting"],
         "dest": "package_reviewed", "roles": ["legal"],
         "conditions": [COLLECTED],
         "after": [f"{EFFECTS}.seal_package"]},
        {"trigger": "disclose", "label": "Record disclosure", "source": ["package_reviewed"],
         "dest": "disclosed", "roles": ["legal"], "fields": ["delivery"],
         "conditions": [f"{GUARDS}.delivery_named"],
         "after": [f"{EFFECTS}.record_delivery"]},
        {"trigger": "notify_subject", "label": "Notify subject",
         "source": ["disclosed", "notification_deferred"], "dest": "subject_notified",
         "roles": ["legal", "system"],
         "conditions": [f"{GUARDS}.gag_lapsed", f"{GUARDS}.subject_reachable"],
         "after": [f"{EFFECTS}.tell_subject_of_disclosure"]},
        {"trigger": "defer_notification", "label": "Defer notification (gag order)",
         "source": ["disclosed", "notification_deferred"], "dest": "notification_deferred",
         "roles": ["legal"], "fields": ["reason", "until"],
         "conditions": ["dsr.engine.guards.reason_given", f"{GUARDS}.until_ahead"],
         "after": [f"{EFFECTS}.keep_gag"]},
        {"trigger": "close", "label": "Close", "source": ["subject_notified"], "dest": "closed",
         "roles": ["legal"]},
        {"trigger": "withdraw", "label": "Withdrawn by authority",
         "source": ["received", "legal_review", "approved", "collecting"], "dest": "withdrawn",
         "roles": ["legal"], "after": [f"{EFFECTS}.drop_collected"]},
    ],
    "periodic": [{"job": f"{JOBS}.notify_due", "crontab": "15 6 * * *"}],
    "retention": ["dsr.disclosures.retention.RECORDS"],
}
