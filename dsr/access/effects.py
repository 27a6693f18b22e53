"""Effects of the access workflow."""

from typing import cast

from flask import current_app
from transitions import EventData

from dsr import audit, disclosures, notify
from dsr.actors import SYSTEM
from dsr.database import utcnow
from dsr.models import Request
from dsr.report import account_ids, compile_report
from dsr.subjects.sign_in import send_sign_in_link


def tell_ready(event: EventData) -> None:
    """Release the answer: keep it as it is now, and mail the subject a sign-in link to it,
    never the data itself."""
    request = cast(Request, event.model)
    request.released_at = utcnow()
    request.answer = compile_report(request, request.released_at)
    if disclosures.restricting(request, account_ids(request)):
        # Art. 23: a disclosure under a gag order is left out; the trail says a restriction
        # was applied, and nothing about what it restricts.
        audit.record("request.restricted", actor=SYSTEM, request_id=request.id)
    send_sign_in_link(request.requester_email, kind="ready", template="ready",
                      request_id=request.id, name=request.requester_name,
                      reference=request.reference,
                      sign_in=notify.public_url("subject.sign_in"),
                      days=current_app.config["REPORT_AVAILABLE_DAYS"])
