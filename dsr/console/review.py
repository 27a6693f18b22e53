"""The staff side of correction requests: decide each proposed change against what the
sources hold now, then follow its write-back, retry what failed and tick off manual tasks."""


from flask import Blueprint, abort, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm.exc import StaleDataError

from dsr import corrections, jobs
from dsr.actors import Actor
from dsr.auth import roles_required
from dsr.categories import Category
from dsr.console.forms import DecisionForm, TaskForm
from dsr.console.request_page import cooling_off, render_request, staff_request
from dsr.corrections import writeback
from dsr.extensions import db
from dsr.models import ChangeTarget, ProposedChange, Request
from dsr.web.form_errors import flash_form_errors

blueprint = Blueprint("review", __name__, url_prefix="/console")


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
    case = staff_request(reference)
    change = _change(case, change_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        flash_form_errors("The decision was not saved", form)
        return render_request(case, status=400, kept={change.id: form.reason.data})
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
        case = staff_request(reference)
        status = refused.status if isinstance(refused, corrections.DecisionRefused) else 409
        return render_request(case, status=status, kept={change_id: form.reason.data})
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
    """Write a failed target again (and read it back); one whose writer died is read back
    first and written only if it is not there yet."""
    case = staff_request(reference)
    target = _target(case, target_id)
    if not FlaskForm().validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    stale = target.state == "writing" and target.updated_at < jobs.stale_before()
    if case.state != "applying" or not (target.state == "failed" or stale):
        flash("Only a failed write-back can be retried, while the request is applying.",
              "error")
        return render_request(case, status=409)
    actor = Actor.for_user(current_user)
    writeback.retry(case, target, actor)
    flash(f"Writing to {target.source} again.", "success")
    return redirect(url_for("console.request_page", reference=case.reference) + "#changes")


@blueprint.route("/requests/<reference>/targets/<id:target_id>/done", methods=["POST"])
@roles_required("staff")
def done(reference: str, target_id: int) -> ResponseReturnValue:
    """Tick off a manual task with a note of what was done."""
    case = staff_request(reference)
    target = _target(case, target_id)
    form = TaskForm()
    if not form.validate_on_submit():
        flash_form_errors("The task was not ticked off", form)
        return render_request(case, status=400)
    if case.state != "applying" or target.state != "manual":
        flash("Manual tasks are ticked off while the request is applying.", "error")
        return render_request(case, status=409)
    if cooling_off(target.change):
        flash("This change waits out its cooling-off: its old address can still stop it.",
              "error")
        return render_request(case, status=409)
    writeback.mark_done(case, target, form.note.data or "", Actor.for_user(current_user),
                        current_user.id)
    flash("Task done.", "success")
    return redirect(url_for("console.request_page", reference=case.reference) + "#changes")
