"""Access requests (GDPR Art. 15): the subject asks what the company holds on them."""

from workflows import Workflow

GUARDS = "dsr.engine.guards"
EFFECTS = "dsr.engine.effects"
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
        {"trigger": "verify", "label": "Confirm identity", "source": ["submitted"],
         "dest": "verified", "roles": ["subject"]},
        {"trigger": "expire", "label": "Expire unverified request", "source": ["submitted"],
         "dest": "expired", "roles": ["system"]},
        {"trigger": "start_collection", "label": "Start collection", "source": ["verified"],
         "dest": "collecting", "roles": ["staff"]},
        {"trigger": "finish_collection", "label": "Collection finished",
         "source": ["collecting"], "dest": "in_review", "roles": ["staff", "system"]},
        {"trigger": "approve", "label": "Approve release", "source": ["in_review"],
         "dest": "approved", "roles": ["staff"]},
        {"trigger": "release", "label": "Release to subject", "source": ["approved"],
         "dest": "fulfilled", "roles": ["staff", "system"]},
        {"trigger": "close", "label": "Close", "source": ["fulfilled"], "dest": "closed",
         "roles": ["staff", "system"]},
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
