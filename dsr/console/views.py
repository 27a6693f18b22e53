"""The staff console: the queue of requests and each request's page with its actions."""

from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import Select, func, select
from werkzeug.wrappers import Response

from dsr import audit, collection, engine, report
from dsr.actors import Actor
from dsr.adapters.registry import configured
from dsr.auth import roles_required
from dsr.console.forms import NoteForm, QueueFilterForm, TransitionForm, WithholdForm
from dsr.console.request_page import answered_states, render_request, staff_request
from dsr.database import utcnow
from dsr.extensions import db
from dsr.models import STAFF_TYPES, FoundItem, Request, RequestNote
from dsr.templating import streamed
from dsr.text import small_int
from dsr.web import transitions
from dsr.web.form_errors import flash_form_errors

blueprint = Blueprint("console", __name__, url_prefix="/console")

DUE_SOON = timedelta(days=7)
COUNT_LIMIT = 1000
# Where an access request's answer can be previewed: reviewed, approved, not yet released.
PREVIEWABLE = ("in_review", "approved")


def _filtered(form: QueueFilterForm) -> Select[tuple[Request]]:
    query = select(Request).where(Request.type.in_(STAFF_TYPES))
    if form.type.data:
        query = query.where(Request.type == form.type.data)
    if form.state.data:
        query = query.where(Request.state == form.state.data)
    if form.due.data:
        query = query.where(Request.state.not_in(answered_states()))
        now = utcnow()
        if form.due.data == "overdue":
            query = query.where(Request.due_at < now)
        else:
            query = query.where(Request.due_at >= now, Request.due_at < now + DUE_SOON)
    return query


@blueprint.route("/")
@roles_required("staff")
def queue() -> str | tuple[str, int]:
    """List requests, soonest due first, with filters by type, state and deadline."""
    form = QueueFilterForm(request.args)
    states = sorted({s for t in STAFF_TYPES for s in engine.workflow_for(t)["states"]})
    form.offer(list(STAFF_TYPES), states)
    if request.args and not form.validate():
        return render_template(
            "console/queue.html", form=form, requests=[], total=0, limit=COUNT_LIMIT,
            answered=set()
        ), 400
    query = _filtered(form)
    # Counted up to one past COUNT_LIMIT: an exact count of 100,000 rows would cost every page
    # more than the rest of it together, and "more than 1,000" tells staff to filter.
    total = db.session.execute(select(func.count()).select_from(
        query.limit(COUNT_LIMIT + 1).subquery())).scalar_one()
    rows = db.session.execute(
        query.order_by(Request.due_at, Request.id).limit(current_app.config["PAGE_SIZE"])
    ).scalars().all()
    # Rendered before the view is recorded: the commit would expire the rows and reload each
    # one, a statement per row.
    page = render_template(
        "console/queue.html", form=form, requests=rows, total=total, limit=COUNT_LIMIT,
        now=utcnow(),
        answered=answered_states(),
    )
    audit.record("queue.view", actor=Actor.for_user(current_user), rows=len(rows))
    db.session.commit()
    return page


@blueprint.route("/requests/<reference>")
@roles_required("staff")
def request_page(reference: str) -> tuple[str, int]:
    """Show one request: who asked, its state and deadline, its history and what can be done."""
    return render_request(staff_request(reference))


@blueprint.route("/requests/<reference>/transitions", methods=["POST"])
@roles_required("staff")
def transition(reference: str) -> Response | tuple[str, int]:
    """Fire the chosen action; on a refusal show why, keeping what was typed."""
    case = staff_request(reference)
    form = TransitionForm()
    if not form.validate_on_submit():
        flash("The form was incomplete or has expired; please try again.", "error")
        return render_request(case, form, 400)
    trigger = form.trigger.data or ""
    actor = Actor.for_user(current_user)
    try:
        transitions.fire(case, trigger, actor=actor, version=form.version.data or "",
                         given={"reason": form.reason.data or ""})
    except engine.TransitionError as error:
        case = staff_request(reference)
        flash(error.message, "error")
        return render_request(case, form, error.status)
    flash(f"Done: the request is now {case.state.replace('_', ' ')}.", "success")
    return redirect(url_for("console.request_page", reference=case.reference))


@blueprint.route("/requests/<reference>/sources/<source>/retry", methods=["POST"])
@roles_required("staff")
def retry_source(reference: str, source: str) -> ResponseReturnValue:
    """Ask one source again, leaving what the others found as it is."""
    case = staff_request(reference)
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    if source not in configured():
        abort(404, description="There is no such source.")
    if case.state != "collecting":
        flash("Sources can be asked again only while the request is collecting.", "error")
        return render_request(case, status=409)
    collection.start(case, Actor.for_user(current_user), [source])
    db.session.commit()
    flash(f"Asking {source} again.", "success")
    return redirect(url_for("console.request_page", reference=case.reference))


@blueprint.route("/requests/<reference>/notes", methods=["POST"])
@roles_required("staff")
def add_note(reference: str) -> ResponseReturnValue:
    """Keep a note on the request for colleagues; the note's text stays out of the trail."""
    case = staff_request(reference)
    if case.purged_at is not None:
        abort(409, description="This request was purged under its retention rule: no notes "
                               "are kept on it any more.")
    form = NoteForm()
    if not form.validate_on_submit():
        flash_form_errors("The note was not saved", form)
        return render_request(case, note=form, status=400)
    note = RequestNote(request_id=case.id, author_id=current_user.id, text=form.text.data)
    db.session.add(note)
    db.session.flush()
    audit.record("note.added", actor=Actor.for_user(current_user), request_id=case.id)
    db.session.commit()
    flash("Note added.", "success")
    return redirect(url_for("console.request_page", reference=case.reference) + "#notes")


def _reviewed_finding(case: Request, item_id: int) -> FoundItem:
    """The finding of this request staff withhold or put back; 404 for another's."""
    item = db.session.get(FoundItem, item_id)
    if item is None or item.request_id != case.id:
        abort(404, description="There is no such finding on this request.")
    return item


def _withholding_refused(case: Request, item: FoundItem, form: WithholdForm
                         ) -> tuple[str, int] | None:
    """The page again, with why and what was typed, if the finding cannot be withheld so."""
    status = 400
    if not form.validate_on_submit():
        flash_form_errors("Nothing was withheld", form)
    elif case.type != "access" or case.state != "in_review":
        flash("Findings can be withheld only while an access request's answer is reviewed.",
              "error")
        status = 409
    elif form.passage.data and not any(form.passage.data in text for text in item.texts()):
        flash("Nothing was withheld: that passage is not in this finding; copy it exactly as "
              "it is shown.", "error")
        form.passage.errors = [*form.passage.errors, "This passage is not in the finding."]
    else:
        return None
    return render_request(case, status=status, withholding=(item.id, form))


@blueprint.route("/requests/<reference>/findings/<id:item_id>/withhold", methods=["POST"])
@roles_required("staff")
def withhold(reference: str, item_id: int) -> ResponseReturnValue:
    """Leave a finding out of the answer, or a passage of it, on the ground chosen, while the
    answer is reviewed; the trail keeps the finding and the ground, never passage or note."""
    case = staff_request(reference)
    item = _reviewed_finding(case, item_id)
    form = WithholdForm(prefix=f"item{item.id}")
    if (refused := _withholding_refused(case, item, form)) is not None:
        return refused
    ground, note = form.ground.data or "", (form.note.data or "").strip()
    if form.passage.data:
        item.redactions = [*item.redactions,
                           {"passage": form.passage.data, "ground": ground, "note": note}]
        action = "finding.redact"
    else:
        item.withheld_ground, item.withheld_note = ground, note
        action = "finding.withhold"
    audit.record(action, actor=Actor.for_user(current_user), request_id=case.id,
                 finding=item.id, ground=ground)
    db.session.commit()
    flash("Withheld from the answer.", "success")
    return redirect(url_for("console.request_page", reference=case.reference) + "#findings")


@blueprint.route("/requests/<reference>/findings/<id:item_id>/restore", methods=["POST"])
@roles_required("staff")
def restore(reference: str, item_id: int) -> ResponseReturnValue:
    """Put back what was withheld: the whole finding, or the passage numbered `part`."""
    case = staff_request(reference)
    item = _reviewed_finding(case, item_id)
    if not FlaskForm().validate_on_submit():
        flash("The form expired; reload the page and try again.", "error")
        return render_request(case, status=400)
    if case.type != "access" or case.state != "in_review":
        flash("Findings can be put back only while an access request's answer is reviewed.",
              "error")
        return render_request(case, status=409)
    part = small_int(request.form.get("part"))
    if "part" in request.form:
        if part is None or part >= len(item.redactions):
            flash("That passage is no longer withheld.", "error")
            return render_request(case, status=400)
        item.redactions = [p for i, p in enumerate(item.redactions) if i != part]
    else:
        item.withheld_ground, item.withheld_note = None, None
    audit.record("finding.restore", actor=Actor.for_user(current_user), request_id=case.id,
                 finding=item.id)
    db.session.commit()
    flash("Put back in the answer.", "success")
    return redirect(url_for("console.request_page", reference=case.reference) + "#findings")


@blueprint.route("/requests/<reference>/reveal", methods=["POST"])
@roles_required("staff")
def reveal(reference: str) -> ResponseReturnValue:
    """Show this request's ID and bank details unmasked to this account, for this session."""
    case = staff_request(reference)
    if not FlaskForm().validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    audit.record("findings.revealed", actor=Actor.for_user(current_user), request_id=case.id)
    db.session.commit()
    session["revealed"] = sorted({*session.get("revealed", []), case.reference})
    return redirect(url_for("console.request_page", reference=case.reference) + "#findings")


@blueprint.route("/requests/<reference>/preview")
@roles_required("staff")
def preview(reference: str) -> ResponseReturnValue:
    """The answer as the subject will see it if released now, compiled from what is held;
    ID and bank details masked unless this account revealed them."""
    case = staff_request(reference)
    if case.type != "access" or case.state not in PREVIEWABLE:
        flash("An answer can be previewed once collection has finished, until it is released.",
              "error")
        return render_request(case, status=409)
    audit.record("report.previewed", actor=Actor.for_user(current_user), request_id=case.id)
    db.session.commit()
    answer = report.Answer(case, report.compile_report(case),
                           masked=case.reference not in session.get("revealed", []))
    return streamed("portal/report.html", case=case, report=answer.header, preview=True,
                    shown=report.view(answer), pdf=False, links=False, correctable=set())
