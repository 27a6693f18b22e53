"""The staff side of correction requests: decide each proposed change against what the
sources hold now, then follow its write-back, retry what failed and tick off manual tasks."""

from typing import Any

from flask import Blueprint, abort, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from dsr import corrections
from dsr.actors import Actor
from dsr.auth import roles_required
from dsr.categories import Category, mask
from dsr.collection import for_display
from dsr.console.forms import DecisionForm, TaskForm
from dsr.console.views import _render_request, _staff_request
from dsr.corrections import writeback
from dsr.database import utcnow
from dsr.extensions import db
from dsr.models import ChangeTarget, ProposedChange, RecipientNotice, Request

blueprint = Blueprint("review", __name__, url_prefix="/console")


def review_context(case: Request, revealed: bool) -> dict[str, Any]:
    """What the request page shows of a correction request: each change with the values the
    sources hold in its category, the recipients told, and the forms."""
    if case.type != "correction":
        return {}
    changes = []
    for change in corrections.changes_of(case):
        items = corrections.candidates(case, change)
        chosen = corrections.preselected(change, items) if change.state == "proposed" \
            else corrections.chosen(change, items)  # on the values, before they are masked
        changes.append({
            "change": change, "category": Category(change.category),
            "candidates": for_display(items, revealed), "chosen": chosen,
            "proposed": change.proposed_value if revealed or not Category(change.category).masked
            else mask(change.proposed_value),
        })
    notices = db.session.execute(
        select(RecipientNotice).where(RecipientNotice.request_id == case.id)
        .order_by(RecipientNotice.id)).scalars().all()
    return {"changes": changes, "notices": notices, "writable": corrections.writable,
            "cooling_off": cooling_off}


def cooling_off(change: ProposedChange) -> bool:
    """Tell whether the change must not be made yet (its old address may still stop it)."""
    return change.apply_after is not None and change.apply_after > utcnow()


def _change(case: Request, change_id: int) -> ProposedChange:
    change = db.session.get(ProposedChange, change_id)
    if change is None or change.request_id != case.id:
        abort(404, description="There is no such change on this request.")
    return change


@blueprint.route("/requests/<reference>/changes/<id:change_id>/<any(approve, reject):decision>",
                 methods=["POST"])
@roles_required("staff")
def decide(reference: str, change_id: int, decision: str) -> ResponseReturnValue:
    """Approve a change onto the chosen records, or reject it with a reason."""
    case = _staff_request(reference)
    change = _change(case, change_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        flash("The decision was not saved: " + "; ".join(
            e for errors in form.errors.values() for e in errors), "error")
        return _render_request(case, status=400, kept={change.id: form.reason.data})
    actor = Actor.for_user(current_user)
    try:
        if decision == "approve":
            corrections.approve(case, change, form.targets.data or [], form.elsewhere.data,
                                actor=actor, user_id=current_user.id)
        else:
            corrections.reject(case, change, form.reason.data or "", actor=actor,
                               user_id=current_user.id)
        db.session.commit()
    except (corrections.DecisionRefused, StaleDataError) as refused:
        db.session.rollback()
        flash(refused.message if isinstance(refused, corrections.DecisionRefused) else
              "Someone moved this request meanwhile; check it and decide again.", "error")
        case = _staff_request(reference)
        status = refused.status if isinstance(refused, corrections.DecisionRefused) else 409
        return _render_request(case, status=status, kept={change_id: form.reason.data})
    label = Category(change.category).label
    flash(f"{label}: {'approved' if decision == 'approve' else 'rejected'}.", "success")
    return redirect(url_for("console.request_page", reference=case.reference) + "#changes")


def _target(case: Request, target_id: int) -> ChangeTarget:
    target = db.session.get(ChangeTarget, target_id)
    if target is None or target.change.request_id != case.id:
        abort(404, description="There is no such target on this request.")
    return target


@blueprint.route("/requests/<reference>/targets/<id:target_id>/retry", methods=["POST"])
@roles_required("staff")
def retry(reference: str, target_id: int) -> ResponseReturnValue:
    """Write a failed target again (and read it back)."""
    case = _staff_request(reference)
    target = _target(case, target_id)
    if not FlaskForm().validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    if case.state != "applying" or target.state != "failed":
        flash("Only a failed write-back can be retried, while the request is applying.",
              "error")
        return _render_request(case, status=409)
    actor = Actor.for_user(current_user)
    writeback.retry(case, target, actor)
    flash(f"Writing to {target.source} again.", "success")
    return redirect(url_for("console.request_page", reference=case.reference) + "#changes")


@blueprint.route("/requests/<reference>/targets/<id:target_id>/done", methods=["POST"])
@roles_required("staff")
def done(reference: str, target_id: int) -> ResponseReturnValue:
    """Tick off a manual task with a note of what was done."""
    case = _staff_request(reference)
    target = _target(case, target_id)
    form = TaskForm()
    if not form.validate_on_submit():
        flash("The task was not ticked off: " + "; ".join(
            e for errors in form.errors.values() for e in errors), "error")
        return _render_request(case, status=400)
    if case.state != "applying" or target.state != "manual":
        flash("Manual tasks are ticked off while the request is applying.", "error")
        return _render_request(case, status=409)
    if cooling_off(target.change):
        flash("This change waits out its cooling-off: its old address can still stop it.",
              "error")
        return _render_request(case, status=409)
    writeback.mark_done(case, target, form.note.data or "", Actor.for_user(current_user),
                        current_user.id)
    flash("Task done.", "success")
    return redirect(url_for("console.request_page", reference=case.reference) + "#changes")
