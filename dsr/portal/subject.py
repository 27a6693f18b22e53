"""The subject's own pages: sign in through a link mailed to the confirmed address, follow
one's requests, and read and download a released answer. Every view is audited."""

from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from dsr import audit, corrections, engine, notify, report
from dsr.actors import SUBJECT
from dsr.categories import Category
from dsr.extensions import db
from dsr.models import STAFF_TYPES, ProposedChange, RecipientNotice, Request
from dsr.pdf import PdfUnavailable, render_pdf, stylesheet
from dsr.portal.forms import ConfirmForm, ProposalsForm, SignInForm, StatementForm
from dsr.subjects.answers import CORRECTABLE_VALUES, correctable_finding, readable
from dsr.subjects.intake import name_on_file, submit_confirmed
from dsr.subjects.limits import public_rate_limits
from dsr.subjects.links import LinkExpired, LinkInvalid
from dsr.subjects.sign_in import (
    claim_sign_in,
    end_session,
    send_sign_in_link,
    sign_in_link,
    signed_in_email,
    start_session,
)
from dsr.templating import streamed
from dsr.text import small_int

blueprint = Blueprint("subject", __name__, url_prefix="/my")

NEXT_STEP = {
    "submitted": "Confirm the request through the link we e-mailed you.",
    "verified": "We are about to look up what we hold on you.",
    "collecting": "We are asking each of our systems what it holds on you.",
    "in_review": "We are checking the answer before we send it.",
    "correction:verified": "We are about to read what our systems hold now.",
    "correction:in_review": "We are checking each change you proposed.",
    "decided": "We have told you our decisions; the approved changes are made next.",
    "applying": "We are making the approved changes in each of our systems.",
    "applied": "The approved changes are made, and we told those who receive the data.",
    "approved": "Your answer is about to be released.",
    "fulfilled": "Your answer is ready below.",
    "closed": "This request is complete.",
    "rejected": "We could not grant this request; our e-mail gave the reasons and your rights.",
    "withdrawn": "This request was withdrawn.",
    "expired": "This request was never confirmed and has lapsed.",
}


def subject_required(view: Any) -> Any:
    """Send a visitor without a subject session to the sign-in page."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if signed_in_email() is None:
            return redirect(url_for("subject.sign_in"))
        return view(*args, **kwargs)

    return wrapper


@blueprint.route("/sign-in", methods=["GET", "POST"])
@public_rate_limits
def sign_in() -> ResponseReturnValue:
    """Mail a sign-in link to an address with a confirmed request; say the same for any."""
    form = SignInForm()
    if not form.validate_on_submit():
        return render_template("portal/sign_in.html", form=form), 400 if form.errors else 200
    email = (form.email.data or "").lower()
    known = db.session.execute(select(Request.id).where(
        Request.requester_email == email, Request.verified_at.is_not(None),
        Request.type.in_(STAFF_TYPES)).limit(1)).first()
    # Both paths do the same work (a sign-in row, a signed link, an e-mail handed to the
    # queue, one commit), so that the answer's timing does not tell whether we know the
    # address; only the e-mail, which its owner alone reads, says which.
    audit.record("subject.sign_in_asked", actor=SUBJECT)
    if known:
        send_sign_in_link(email, from_form=True)
    else:
        send_sign_in_link(email, kind="sign-in-unknown", template="sign_in_unknown",
                          request_page=notify.public_url("portal.new_request"), from_form=True)
    db.session.commit()
    return render_template("portal/sign_in_sent.html",
                           minutes=current_app.config["SIGN_IN_LINK_MINUTES"])


@blueprint.route("/session/<token>", methods=["GET", "POST"])
def session_link(token: str) -> ResponseReturnValue:
    """Show a button for a valid sign-in link; start the subject's session when pressed."""
    try:
        link = sign_in_link(token)
    except LinkExpired:
        abort(410, description="This sign-in link has expired. Ask for a new one.")
    except LinkInvalid:
        abort(400, description="This is not a valid sign-in link.")
    if link.used_at is not None:
        abort(410, description="This sign-in link has already been used. Ask for a new one.")
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_template("portal/session.html", form=form)
    if not claim_sign_in(link):
        db.session.rollback()
        abort(410, description="This sign-in link has already been used. Ask for a new one.")
    audit.record("subject.sign_in", actor=SUBJECT)
    start_session(link)  # commits the claim, the event and the session together
    return redirect(url_for("subject.requests"))


@blueprint.route("/sign-out", methods=["POST"])
def sign_out() -> ResponseReturnValue:
    """End the subject's session."""
    if not ConfirmForm().validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    end_session()
    return redirect(url_for("portal.home"))


def _own(reference: str) -> Request:
    """One of the signed-in subject's requests; 404 for anyone else's, as for none at all."""
    case = engine.find_request(reference, STAFF_TYPES)
    if case is None or case.requester_email != signed_in_email():
        abort(404, description="There is no request with that reference among yours.")
    return case


@blueprint.route("/")
@subject_required
def requests() -> str:
    """The subject's requests: where each stands, its due date, and what happens next."""
    cases = db.session.execute(
        select(Request).where(Request.requester_email == signed_in_email(),
                              Request.type.in_(STAFF_TYPES)).order_by(Request.received_at.desc())
    ).scalars().all()
    for case in cases:
        audit.record("subject.status_view", actor=SUBJECT, request_id=case.id)
    db.session.commit()
    answered = {s for kind in STAFF_TYPES for s in engine.workflow_for(kind)["answered"]}
    return render_template("portal/requests.html", cases=cases, next_step=NEXT_STEP,
                           answered=answered,
                           readable=readable, form=ConfirmForm())


def _released(reference: str) -> Request:
    case = _own(reference)
    if not readable(case):
        abort(410, description="This answer cannot be read here (any more). If you need it "
                               "again, make a new request; it costs nothing.")
    return case


@blueprint.route("/requests/<reference>/report")
@subject_required
def report_page(reference: str) -> Response:
    """The answer, as a page, sent as it is read from the database."""
    case = _released(reference)
    audit.record("report.viewed", actor=SUBJECT, request_id=case.id, code="html")
    db.session.commit()
    answer = report.Answer.released(case)
    return streamed("portal/report.html", case=case, report=answer.header,
                    shown=report.view(answer), pdf=False, links=True,
                    correctable=CORRECTABLE_VALUES)


@blueprint.route("/requests/<reference>/report.<fmt>")
@subject_required
def report_download(reference: str, fmt: str) -> Response:
    """The answer as PDF, JSON or CSV, for keeping or taking elsewhere. JSON and CSV hold
    every finding and are sent as they are read; the PDF lists the newest PDF_LISTED of each
    kind of activity, with the counts per month of all, and says where the rest is."""
    if fmt not in ("pdf", "json", "csv"):
        abort(404, description="Answers come as .pdf, .json or .csv.")
    case = _released(reference)
    audit.record("report.downloaded", actor=SUBJECT, request_id=case.id, code=fmt)
    db.session.commit()
    answer = report.Answer.released(case)
    name = f"cloudtoko-answer-{case.reference}.{fmt}"
    if fmt == "json":
        response = current_app.response_class(stream_with_context(report.as_json(answer)),
                                              mimetype="application/json")
    elif fmt == "pdf":
        html = render_template("portal/report_pdf.html", case=case, report=answer.header,
                               shown=report.view(answer, current_app.config["PDF_LISTED"]),
                               pdf=True, links=False, correctable=CORRECTABLE_VALUES,
                               stylesheet=stylesheet())
        try:
            response = Response(render_pdf(html), mimetype="application/pdf")
        except PdfUnavailable as error:
            current_app.logger.warning("No PDF of an answer: %s", error)
            abort(503, description="The PDF cannot be made on this server just now; the "
                                   "JSON and CSV copies hold the same answer.")
    else:
        response = Response(stream_with_context(report.as_csv(answer)),
                            mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.route("/corrections/new", methods=["GET", "POST"])
@subject_required
def propose() -> ResponseReturnValue:
    """Propose changes as a signed-in subject; "This is wrong" in a report pre-fills one."""
    form = ProposalsForm()
    form.confirmed_email = signed_in_email() or ""
    if not form.is_submitted():
        prefill = _from_report(request.args.get("from", ""), request.args.get("item", ""))
        if prefill:
            form = ProposalsForm(formdata=None, changes=[prefill])
            form.confirmed_email = signed_in_email() or ""
        return render_template("portal/propose.html", form=form)
    if form.add.data:
        form.grow()
        return render_template("portal/propose.html", form=form)
    form.drop_empty()
    if not form.validate_on_submit():
        return render_template("portal/propose.html", form=form), 400
    case = submit_confirmed(form.confirmed_email, name_on_file(form.confirmed_email),
                            form.proposals())
    db.session.commit()
    if case.state == "submitted":
        return redirect(url_for("portal.sent"))
    flash(f"Your correction request {case.reference} is confirmed; we will tell you what "
          "we decide.", "success")
    return redirect(url_for("subject.changes", reference=case.reference))


def _from_report(reference: str, item: str) -> dict[str, str] | None:
    """A change pre-filled from finding number `item` of the subject's released answer (the
    link names only the request and a position, never a value)."""
    index = small_int(item)
    if not reference or index is None:
        return None
    case = _own(reference)
    finding = correctable_finding(case, index)
    if finding is None:
        return None
    audit.record("report.viewed", actor=SUBJECT, request_id=case.id, code="correction_form")
    return {"category": finding["category"], "current": finding["value"],
            "record": f"{finding['source']}: {finding['label']}"}


@blueprint.route("/requests/<reference>/changes", methods=["GET", "POST"])
@subject_required
def changes(reference: str) -> ResponseReturnValue:
    """The subject's proposed changes: each one's state and decision, who was told of the
    corrections, and a supplementary statement on a change we did not make."""
    case = _own(reference)
    if case.type != "correction":
        abort(404, description="There is no correction request with that reference among "
                               "yours.")
    form = StatementForm()
    status = 200
    if form.is_submitted():
        if form.validate():
            change_id = small_int(form.change.data)
            change = db.session.get(ProposedChange, change_id) if change_id else None
            try:
                corrections.add_statement(case, change, form.statement.data or "",
                                          actor=SUBJECT)
            except corrections.DecisionRefused as refused:
                db.session.rollback()
                abort(refused.status, description=refused.message)
            db.session.commit()
            flash("Your statement is kept with the information it concerns.", "success")
            return redirect(url_for("subject.changes", reference=case.reference))
        status = 400
    audit.record("changes.viewed", actor=SUBJECT, request_id=case.id)
    db.session.commit()
    notices = db.session.execute(
        select(RecipientNotice).where(RecipientNotice.request_id == case.id)
        .order_by(RecipientNotice.id)).scalars().all()
    return render_template("portal/changes.html", case=case,
                           changes=corrections.changes_of(case), notices=notices,
                           form=form, categories=Category), status
