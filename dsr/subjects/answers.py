"""What a signed-in subject may do with a released answer: read it while it lasts, and point
at one of its values to have it corrected."""

from datetime import timedelta
from typing import Any

from flask import current_app

from dsr.corrections.values import CORRECTABLE
from dsr.database import utcnow
from dsr.models import Request
from dsr.report import Answer

CORRECTABLE_VALUES = {c.value for c in CORRECTABLE}


def readable(case: Request) -> bool:
    """Tell whether the request's answer may be read now: released, and for
    REPORT_AVAILABLE_DAYS after."""
    days = current_app.config["REPORT_AVAILABLE_DAYS"]
    return (case.type == "access" and case.state in ("fulfilled", "closed")
            and case.released_at is not None and case.answer is not None
            and utcnow() <= case.released_at + timedelta(days=days))


def correctable_finding(case: Request, index: int) -> dict[str, Any] | None:
    """Finding number `index` of a readable answer, if its category can be corrected."""
    if not readable(case):
        return None
    finding = Answer.released(case).finding(index)
    if finding is None or finding["category"] not in CORRECTABLE_VALUES:
        return None
    return finding
