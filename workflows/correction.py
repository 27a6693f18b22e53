"""Correction requests (GDPR Art. 16 and 19): the subject proposes changes, staff decide."""

from workflows import Workflow

GUARDS = "dsr.engine.guards"
EFFECTS = "dsr.engine.effects"
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
        {"trigger": "verify", "label": "Confirm identity", "source": ["submitted"],
         "dest": "verified", "roles": ["subject"]},
        {"trigger": "expire", "label": "Expire unverified request", "source": ["submitted"],
         "dest": "expired", "roles": ["system"]},
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
        {"trigger": "reject", "label": "Reject", "source": OPEN, "dest": "rejected",
         "roles": ["staff"], "fields": ["reason"], "conditions": [f"{GUARDS}.reason_given"],
         "after": [f"{EFFECTS}.keep_reason"]},
        {"trigger": "withdraw", "label": "Withdraw", "source": ["submitted", *OPEN],
         "dest": "withdrawn", "roles": ["subject", "staff"]},
        {"trigger": "extend", "label": "Extend deadline", "source": OPEN, "dest": None,
         "roles": ["staff"], "fields": ["reason"],
         "conditions": [f"{GUARDS}.reason_given", f"{GUARDS}.not_extended",
                        f"{GUARDS}.before_due"],
         "after": [f"{EFFECTS}.keep_reason", f"{EFFECTS}.extend_due_date"]},
    ],
}
