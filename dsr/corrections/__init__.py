"""Correction requests (GDPR Art. 16 and 19): the changes a subject proposes, and staff's
decision on each.

A change is approved onto targets: the records, among what collection found for this very
request's verified subject, that hold the wrong value. The record a subject points at is only
a hint that pre-selects a target; staff choose, and can choose nothing outside those findings.
Writing approved changes back and telling recipients is in writeback.py and notices.py.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from dsr import audit
from dsr.actors import SUBJECT, Actor
from dsr.adapters import CorrectableAdapter
from dsr.adapters.registry import configured
from dsr.categories import Category
from dsr.collection import found_items
from dsr.database import utcnow
from dsr.extensions import db
from dsr.models import ChangeTarget, FoundItem, ProposedChange, Request
from dsr.models.corrections import ELSEWHERE

# A change approved and not yet made.
TO_APPLY = ("approved", "failed")


@dataclass(frozen=True)
class Proposal:
    """One change as the subject proposes it: the value already checked by `normalise`."""

    category: Category
    proposed: str
    current: str = ""
    why: str = ""
    note: str = ""
    record_hint: str = ""


class DecisionRefused(Exception):
    """A decision that cannot be taken as asked; the message says what to do instead."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def propose(request: Request, proposals: list[Proposal]) -> list[ProposedChange]:
    """Attach the subject's proposed changes to a correction request."""
    changes = [
        ProposedChange(request_id=request.id, category=p.category.value,
                       proposed_value=p.proposed, current_value=p.current, why=p.why,
                       note=p.note, record_hint=p.record_hint)
        for p in proposals
    ]
    db.session.add_all(changes)
    audit.record("changes.proposed", actor=SUBJECT,
                 request_id=request.id, count=len(changes),
                 category=sorted({p.category.value for p in proposals}))
    return changes


def changes_of(request: Request) -> list[ProposedChange]:
    """The request's proposed changes, in the order the subject gave them."""
    return list(db.session.execute(
        select(ProposedChange).where(ProposedChange.request_id == request.id)
        .order_by(ProposedChange.id)
    ).scalars())


def changes_email(request: Request) -> bool:
    """Tell whether the request proposes a new e-mail address (a sensitive change)."""
    return any(c.category == Category.EMAIL.value for c in changes_of(request))


def candidates(request: Request, change: ProposedChange) -> list[FoundItem]:
    """What the request's sources hold in the change's category: where it may be written."""
    return [item for item in found_items(request) if item.category == change.category]


def preselected(change: ProposedChange, items: list[FoundItem]) -> set[int]:
    """The candidates the subject pointed at, or that hold the value they said is wrong."""
    hinted = {i.id for i in items if f"{i.source}: {i.label}" == change.record_hint
              and (not change.current_value or i.value == change.current_value)}
    if hinted or not change.current_value:
        return hinted
    return {i.id for i in items if i.value.casefold() == change.current_value.casefold()}


def chosen(change: ProposedChange, items: list[FoundItem]) -> set[int]:
    """The candidates an earlier approval of the change chose."""
    where = {(t.source, t.record_kind, t.record_key, t.record_field) for t in change.targets}
    return {i.id for i in items
            if (i.source, i.record_kind, i.record_key, i.record_field) in where}


def writable(source: str) -> bool:
    """Tell whether dsr can write to the source itself, rather than leave staff a task."""
    found = configured().get(source)
    return found is not None and isinstance(found.adapter, CorrectableAdapter)


def _decidable(request: Request, change: ProposedChange) -> None:
    if change.request_id != request.id:
        raise DecisionRefused("There is no such change on this request.", 404)
    if request.state != "in_review":
        raise DecisionRefused("Changes are decided while the request is in review; read the "
                              "current values first.", 409)


def approve(request: Request, change: ProposedChange, item_ids: list[int], elsewhere: bool,
            *, actor: Actor, user_id: int) -> None:
    """Approve a change onto the chosen records (and, with `elsewhere`, a task to correct it
    where dsr does not reach), replacing an earlier decision while the review lasts."""
    _decidable(request, change)
    items = {i.id: i for i in candidates(request, change)}
    if any(item_id not in items for item_id in item_ids):
        raise DecisionRefused("A chosen record is not among this request's findings for "
                              f"{Category(change.category).label.lower()}.", 400)
    if not item_ids and not elsewhere:
        raise DecisionRefused("Choose at least one record to correct, or “somewhere else”, "
                              "to approve this change.")
    change.targets.clear()
    for item_id in sorted(set(item_ids)):
        item = items[item_id]
        change.targets.append(ChangeTarget(
            source=item.source, record_kind=item.record_kind, record_key=item.record_key,
            record_field=item.record_field, label=item.label, previous_value=item.value,
            state="pending" if writable(item.source) else "manual"))
    if elsewhere:
        change.targets.append(ChangeTarget(source=ELSEWHERE, label="Where dsr does not reach",
                                           state="manual"))
    change.state, change.decision_reason = "approved", None
    change.decided_by, change.decided_at = user_id, utcnow()
    request.updated_at = utcnow()  # moves the version: "Send decisions" sees this or fails
    audit.record("change.approved", actor=actor, request_id=request.id, change=change.id,
                 category=change.category, sources=sorted({t.source for t in change.targets}))


def reject(request: Request, change: ProposedChange, reason: str, *, actor: Actor,
           user_id: int) -> None:
    """Reject a change with the reason the subject will read (Art. 12(4))."""
    _decidable(request, change)
    if not reason.strip():
        raise DecisionRefused("A reason is required to reject a change: the subject is told "
                              "it, with their right to complain.")
    change.targets.clear()
    change.state, change.decision_reason = "rejected", reason.strip()
    change.decided_by, change.decided_at = user_id, utcnow()
    request.updated_at = utcnow()  # moves the version: "Send decisions" sees this or fails
    audit.record("change.rejected", actor=actor, request_id=request.id, change=change.id,
                 category=change.category)


def start_cooling_off(request: Request) -> list[ProposedChange]:
    """Hold approved e-mail changes for the cooling-off period, each with a fresh secret for
    the link that lets the old address stop it; return them."""
    hours = int(current_app.config["EMAIL_CHANGE_COOLING_OFF_HOURS"])
    held = [c for c in changes_of(request)
            if c.state == "approved" and c.category == Category.EMAIL.value]
    for change in held:
        change.apply_after = utcnow() + timedelta(hours=hours)
        change.stop_nonce = secrets.token_urlsafe(16)
    return held


def add_statement(request: Request, change: ProposedChange | None, text: str, *,
                  actor: Actor) -> None:
    """Keep the subject's supplementary statement on a rejected change (Art. 16), once."""
    if change is None or change.request_id != request.id:
        raise DecisionRefused("There is no such change on this request.", 404)
    if change.state != "rejected":
        raise DecisionRefused("A statement can be added only to a change we did not make.",
                              409)
    if change.statement:
        raise DecisionRefused("Your statement on this change is already kept; write to us "
                              "to add to it.", 409)
    change.statement, change.statement_at = text.strip(), utcnow()
    audit.record("change.statement_added", actor=actor, request_id=request.id,
                 change=change.id)


def end_open_changes(request: Request, *, rejected: bool) -> None:
    """End the changes of a request that ends as a whole: those not decided or not made are
    rejected with the request's reason, or withdrawn."""
    for change in changes_of(request):
        if change.state in ("proposed", *TO_APPLY):
            change.targets.clear()
            change.state, change.stop_nonce = ("rejected" if rejected else "withdrawn"), None
            if rejected:
                change.decision_reason = request.decision_reason
