"""How long a correction request's values are kept: RETENTION_DAYS["correction_values"] days
after the request ended (its changes written, its recipients told, Art. 19). What the subject
said was wrong, what it should be, what the source held before and the notes and reasons
written go; which kinds of value, what was decided, where it was written and whom we told
stay. A change we did not make on which the subject left a statement stays whole: we told
them we keep the statement with that information (Art. 16), and it means nothing without the
change it is about."""

from sqlalchemy import exists, or_, select, update

from dsr.extensions import db
from dsr.models import ChangeTarget, ProposedChange, Request
from dsr.retention import Rule, final_state

_UNSTATED = ProposedChange.statement.is_(None)


def _forget(ids: list[int]) -> None:
    changes = select(ProposedChange.id).where(ProposedChange.request_id.in_(ids))
    db.session.execute(update(ChangeTarget).where(ChangeTarget.change_id.in_(changes))
                       .values(previous_value="", done_note=None))
    db.session.execute(update(ProposedChange).where(ProposedChange.request_id.in_(ids),
                                                    _UNSTATED)
                       .values(record_hint="", current_value="", proposed_value="", why="",
                               note="", decision_reason=None))


_VALUES_LEFT = or_(
    exists().where(ProposedChange.request_id == Request.id, _UNSTATED,
                   ProposedChange.proposed_value != ""),
    exists().where(ProposedChange.request_id == Request.id,
                   ChangeTarget.change_id == ProposedChange.id,
                   ChangeTarget.previous_value != ""))

VALUES = Rule(
    "correction_values",
    deletes="the values of a correction request (what the subject said was wrong, what it "
            "should be, what the source held before) and the notes and reasons written on "
            "its changes",
    keeps="which kinds of value it changed, what was decided, where each was written, "
          "whom we told, a change we did not make with the subject's statement on it, and "
          "the audit trail",
    table=Request, since=Request.updated_at,
    held=(Request.type == "correction", final_state(), _VALUES_LEFT),
    purge=_forget)
