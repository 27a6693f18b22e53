"""Transitions that several workflows share, written once."""

from workflows import Periodic, Transition

GUARDS = "dsr.engine.guards"
EFFECTS = "dsr.engine.effects"
SUBJECTS = "dsr.subjects.effects"
COLLECTED = "dsr.collection.guards.every_source_answered"
START_COLLECTION = f"{SUBJECTS}.start_collection"
# Requests never confirmed expire when their link lapses; hourly is soon enough.
EXPIRY: Periodic = {"job": "dsr.subjects.expiry.expire_unverified", "crontab": "7 * * * *"}


def verification() -> list[Transition]:
    """The subject confirms their identity through the link sent to them, or lets it lapse."""
    return [
        {"trigger": "verify", "label": "Confirm identity", "source": ["submitted"],
         "dest": "verified", "roles": ["subject"], "after": [f"{SUBJECTS}.start_clock"]},
        {"trigger": "expire", "label": "Expire unverified request", "source": ["submitted"],
         "dest": "expired", "roles": ["system"]},
    ]


def rejection(source: list[str]) -> Transition:
    """Staff reject the request with a reason that the subject receives."""
    return {"trigger": "reject", "label": "Reject", "source": source, "dest": "rejected",
            "roles": ["staff"], "fields": ["reason"], "conditions": [f"{GUARDS}.reason_given"],
            "after": [f"{EFFECTS}.keep_reason", f"{SUBJECTS}.tell_rejection"]}


def withdrawal(source: list[str]) -> Transition:
    """The subject, or staff on the subject's word, withdraw the request."""
    return {"trigger": "withdraw", "label": "Withdraw", "source": ["submitted", *source],
            "dest": "withdrawn", "roles": ["subject", "staff"]}


def extension(source: list[str]) -> Transition:
    """Staff extend the deadline once, before it passes, with a reason (Art. 12(3))."""
    return {"trigger": "extend", "label": "Extend deadline", "source": source, "dest": None,
            "roles": ["staff"], "fields": ["reason"],
            "conditions": [f"{GUARDS}.reason_given", f"{GUARDS}.not_extended",
                           f"{GUARDS}.before_due"],
            "after": [f"{EFFECTS}.extend_due_date", f"{SUBJECTS}.tell_extension"]}
