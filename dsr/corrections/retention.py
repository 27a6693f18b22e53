"""How long a correction request's values are kept: RETENTION_DAYS["correction_values"] days
after the request ended (its changes written, its recipients told, Art. 19), or after the
subject's last statement on a change we did not make. What the subject said was wrong, what it
should be, what the source held before and the notes and reasons written go; which kinds of
value, what was decided, where it was written and whom we told stay."""

from sqlalchemy import exists, or_, select, update

from dsr.extensions import db
from dsr.models import ChangeTarget, ProposedChange, Request
from dsr.retention import Rule, final_state


def _forget(ids: list[int]) -> None:
    changes = select(ProposedChange.id).where(ProposedChange.request_id.in_(ids))
    db.session.execute(update(ChangeTarget).where(ChangeTarget.change_id.in_(changes))
                       .values(previous_value="", done_note=None))
    db.session.execute(update(ProposedChange).where(ProposedChange.request_id.in_(ids))
                       .values(record_hint="", current_value="", proposed_value="", why="",
                               note="", decision_reason=None, statement=None))


_VALUES_LEFT = exists().where(ProposedChange.request_id == Request.id,
                              or_(ProposedChange.proposed_value != "",
                                  ProposedChange.statement.is_not(None)))

VALUES = Rule(
    "correction_values",
    deletes="the values of a correction request (what the subject said was wrong, what it "
            "should be, what the source held before) and the notes, reasons and statements "
            "written on its changes",
    keeps="which kinds of value it changed, what was decided, where each was written, "
          "whom we told, and the audit trail",
    table=Request, since=Request.updated_at,
    held=(Request.type == "correction", final_state(), _VALUES_LEFT),
    purge=_forget)
