"""Tables of cases that several test modules walk."""

# Every (workflow, trigger, from state) with the state it must lead to and a role allowed to
# fire it. Written out by hand: a change to a workflow must change this table too.
TRIGGER_CASES = [
    ("access", "verify", "submitted", "verified", "subject"),
    ("access", "expire", "submitted", "expired", "system"),
    ("access", "start_collection", "verified", "collecting", "staff"),
    ("access", "finish_collection", "collecting", "in_review", "system"),
    ("access", "approve", "in_review", "approved", "staff"),
    ("access", "release", "approved", "fulfilled", "system"),
    ("access", "close", "fulfilled", "closed", "staff"),
    *[("access", "reject", s, "rejected", "staff")
      for s in ("verified", "collecting", "in_review", "approved")],
    *[("access", "withdraw", s, "withdrawn", "subject")
      for s in ("submitted", "verified", "collecting", "in_review", "approved")],
    *[("access", "extend", s, s, "staff")
      for s in ("verified", "collecting", "in_review", "approved")],
    ("correction", "verify", "submitted", "verified", "subject"),
    ("correction", "expire", "submitted", "expired", "system"),
    ("correction", "start_collection", "verified", "collecting", "staff"),
    ("correction", "finish_collection", "collecting", "in_review", "system"),
    ("correction", "decide", "in_review", "decided", "staff"),
    ("correction", "apply", "decided", "applying", "system"),
    ("correction", "confirm_applied", "applying", "applied", "system"),
    ("correction", "close", "applied", "closed", "staff"),
    ("correction", "close", "decided", "closed", "staff"),
    ("correction", "close", "applying", "closed", "system"),
    *[("correction", "reject", s, "rejected", "staff")
      for s in ("verified", "collecting", "in_review")],
    *[("correction", "withdraw", s, "withdrawn", "subject")
      for s in ("submitted", "verified", "collecting", "in_review")],
    *[("correction", "extend", s, s, "staff") for s in ("verified", "collecting", "in_review")],
    ("disclosure", "start_review", "received", "legal_review", "legal"),
    ("disclosure", "approve", "legal_review", "approved", "legal"),
    ("disclosure", "refuse", "legal_review", "refused", "legal"),
    ("disclosure", "start_collection", "approved", "collecting", "legal"),
    ("disclosure", "review_package", "collecting", "package_reviewed", "legal"),
    ("disclosure", "disclose", "package_reviewed", "disclosed", "legal"),
    ("disclosure", "notify_subject", "disclosed", "subject_notified", "legal"),
    ("disclosure", "notify_subject", "notification_deferred", "subject_notified", "system"),
    ("disclosure", "defer_notification", "disclosed", "notification_deferred", "legal"),
    ("disclosure", "defer_notification", "notification_deferred", "notification_deferred",
     "legal"),
    ("disclosure", "close", "subject_notified", "closed", "legal"),
    *[("disclosure", "withdraw", s, "withdrawn", "legal")
      for s in ("received", "legal_review", "approved", "collecting")],
]
