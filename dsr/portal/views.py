"""The public pages: ask for your data or a correction, and confirm that the request is yours."""

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import update

from dsr import audit, engine
from dsr import policy as privacy_policy
from dsr.actors import SUBJECT
from dsr.corrections import TO_APPLY, writeback
from dsr.database import changed_rows
from dsr.extensions import db
from dsr.models import STAFF_TYPES, ProposedChange, Request
from dsr.portal.forms import ConfirmForm, CorrectionForm, RequestForm, presented_visitor_ids
from dsr.subjects.intake import submit
from dsr.subjects.limits import public_rate_limits
from dsr.subjects.links import CONFIRMATION, STOP_CHANGE, LinkExpired, LinkInvalid, nonce_matches

blueprint = Blueprint("portal", __name__)


@blueprint.route("/")
def home() -> str:
    """Say what a person may ask, and where."""
    return render_template("portal/home.html")


@blueprint.route("/requests/new", methods=["GET", "POST"])
@public_rate_limits
def new_request() -> ResponseReturnValue:
    """Take a request and send the link that confirms it; answer the same for every address.
    A visitor ID is taken only as the requester's own browser presents it in the analytics'
    cookie, shown to them first, never as typed."""
    form = RequestForm()
    visitor_ids = presented_visitor_ids(request.cookies)
    if not form.validate_on_submit():
        return render_template("portal/new.html", form=form, visitor_ids=visitor_ids), \
            400 if form.errors else 200
    if form.type.data == "correction":  # on to the changes, keeping what was typed
        carried = CorrectionForm(formdata=None, email=form.email.data, name=form.name.data,
                                 message=form.message.data)
        return render_template("portal/correction.html", form=carried)
    submit(form.type.data or "access", form.email.data or "", form.name.data or "",
           form.message.data, claimed_ips=form.claimed_ips(),
           visitor_ids=[] if form.leave_out_visitor_id.data else visitor_ids)
    db.session.commit()
    return redirect(url_for("portal.sent"))


@blueprint.route("/corrections/new", methods=["GET", "POST"])
@public_rate_limits
def new_correction() -> ResponseReturnValue:
    """Take a correction request: one or more changes, each checked as the subject types it,
    confirmed through the address on file."""
    form = CorrectionForm()
    if form.is_submitted() and form.add.data:
        form.grow()
        return render_template("portal/correction.html", form=form)
    form.drop_empty()
    if not form.validate_on_submit():
        return render_template("portal/correction.html", form=form), 400 if form.errors else 200
    submit("correction", form.email.data or "", form.name.data or "", form.message.data,
           form.proposals())
    db.session.commit()
    return redirect(url_for("portal.sent"))


@blueprint.route("/requests/sent")
def sent() -> str:
    """Tell the requester to look in their inbox, without saying whether we know them."""
    return render_template("portal/sent.html", hours=current_app.config["VERIFY_LINK_HOURS"])


def _verifiable(token: str) -> Request:
    try:
        data = CONFIRMATION.read(token)
    except LinkExpired:
        abort(410, description="This link has expired. Please send your request again; "
                               "nothing was collected.")
    except LinkInvalid:
        abort(400, description="This is not a valid confirmation link. Copy the whole link "
                               "from the e-mail, or send your request again.")
    case = db.session.get(Request, data.get("r"))
    if case is None or case.type not in STAFF_TYPES:
        abort(400, description="This is not a valid confirmation link.")
    if case.state == "expired":
        abort(410, description="This request expired before it was confirmed. Please send "
                               "it again; nothing was collected.")
    if case.state != "submitted" or not nonce_matches(case.verify_nonce, data.get("n")):
        abort(410, description="This link has already been used. If you did not use it, "
                               "send a new request.")
    return case


@blueprint.route("/requests/verify/<token>", methods=["GET", "POST"])
def verify(token: str) -> ResponseReturnValue:
    """Show a confirm button for a valid link; confirm the request when it is pressed."""
    case = _verifiable(token)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_template("portal/verify.html", form=form, case=case)
    engine.fire(case, "verify", actor=SUBJECT)
    db.session.commit()
    return render_template("portal/verified.html", case=case)


def _stoppable(token: str) -> ProposedChange:
    try:
        data = STOP_CHANGE.read(token)
    except LinkExpired:
        abort(410, description="This link has expired. If the change was not yours, write to "
                               "us at once.")
    except LinkInvalid:
        abort(400, description="This is not a valid link. Copy the whole link from the "
                               "e-mail.")
    change = db.session.get(ProposedChange, data.get("c"))
    if change is None or not nonce_matches(change.stop_nonce, data.get("n")):
        abort(410, description="This change can no longer be stopped here: it was stopped "
                               "already, or made. If it was not yours, write to us at once.")
    return change


@blueprint.route("/corrections/stop/<token>", methods=["GET", "POST"])
def stop_change(token: str) -> ResponseReturnValue:
    """Let the old address stop an e-mail change during its cooling-off, before anything of
    it is written."""
    change = _stoppable(token)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_template("portal/stop_change.html", form=form, change=change)
    # One conditional statement: a write-back that started first has emptied the nonce.
    stopped = changed_rows(db.session.execute(
        update(ProposedChange)
        .where(ProposedChange.id == change.id, ProposedChange.stop_nonce == change.stop_nonce,
               ProposedChange.state.in_(TO_APPLY))
        .values(state="withdrawn", stop_nonce=None)))
    if not stopped:
        db.session.rollback()
        abort(410, description="This change can no longer be stopped here: it is being made "
                               "or was made. If it was not yours, write to us at once.")
    db.session.refresh(change)
    change.targets.clear()
    audit.record("change.withdrawn", actor=SUBJECT, request_id=change.request_id,
                 change=change.id, via="stop_link")
    db.session.commit()
    case = db.session.get(Request, change.request_id)
    if case is not None:
        writeback.settle(case)
    return render_template("portal/stopped.html")


@blueprint.route("/policy")
def policy() -> str:
    """Show the privacy policy in force, the version announced to follow it, and every
    earlier version with its dates."""
    current, upcoming = privacy_policy.in_force(), privacy_policy.upcoming()
    return render_template("portal/policy.html", current=current, version=current or upcoming,
                           upcoming=upcoming, history=privacy_policy.history(),
                           render=privacy_policy.render)


@blueprint.route("/policy/<int:number>")
def policy_version(number: int) -> str:
    """Show one published version of the privacy policy with its dates."""
    version = privacy_policy.by_number(number)
    if version is None:
        abort(404, description="There is no published version of the policy by that number.")
    return render_template("portal/policy.html", current=privacy_policy.in_force(),
                           version=version, upcoming=privacy_policy.upcoming(),
                           history=privacy_policy.history(), render=privacy_policy.render)
