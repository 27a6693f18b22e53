"""The subject's own pages: sign in through a link mailed to the confirmed address, follow
one's requests, and read and download a released answer. Every view is audited."""

from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update

from dsr import audit, engine, notify, report
from dsr.actors import SUBJECT
from dsr.database import changed_rows, utcnow
from dsr.extensions import db
from dsr.models import STAFF_TYPES, Request, SubjectSignIn
from dsr.portal.forms import ConfirmForm, SignInForm
from dsr.portal.intake import public_rate_limits

blueprint = Blueprint("subject", __name__, url_prefix="/my")

NEXT_STEP = {
    "submitted": "Confirm the request through the link we e-mailed you.",
    "verified": "We are about to look up what we hold on you.",
    "collecting": "We are asking each of our systems what it holds on you.",
    "in_review": "We are checking the answer before we send it.",
    "approved": "Your answer is about to be released.",
    "fulfilled": "Your answer is ready below.",
    "closed": "This request is complete.",
    "rejected": "We could not grant this request; our e-mail gave the reasons and your rights.",
    "withdrawn": "This request was withdrawn.",
    "expired": "This request was never confirmed and has lapsed.",
}


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="dsr.subject-sign-in")


def signed_in_email() -> str | None:
    """The address this browser proved it reads, while its subject session lasts."""
    data = session.get("subject")
    if not isinstance(data, dict):
        return None
    if datetime.fromisoformat(data["until"]) < utcnow():
        session.pop("subject", None)
        return None
    return str(data["email"])


def subject_required(view: Any) -> Any:
    """Send a visitor without a subject session to the sign-in page."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if signed_in_email() is None:
            return redirect(url_for("subject.sign_in"))
        return view(*args, **kwargs)

    return wrapper


def send_sign_in_link(email: str, kind: str = "sign-in", template: str = "sign_in",
                      request_id: int | None = None, **context: object) -> None:
    """Queue an e-mail with a fresh single-use sign-in link for `email`."""
    link = SubjectSignIn(email=email)
    db.session.add(link)
    db.session.flush()
    token = _serializer().dumps({"s": link.id})
    notify.enqueue(kind, email, template, request_id=request_id,
                   link=notify.public_url("subject.session_link", token=token),
                   minutes=current_app.config["SIGN_IN_LINK_MINUTES"], **context)


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
    # Both paths write and commit, so that the answer's timing says little about the address.
    audit.record("subject.sign_in_asked", actor=SUBJECT)
    if known:
        send_sign_in_link(email)
    db.session.commit()
    notify.deliver_soon(current_app._get_current_object())  # type: ignore[attr-defined]
    return render_template("portal/sign_in_sent.html",
                           minutes=current_app.config["SIGN_IN_LINK_MINUTES"])


@blueprint.route("/session/<token>", methods=["GET", "POST"])
def session_link(token: str) -> ResponseReturnValue:
    """Show a button for a valid sign-in link; start the subject's session when pressed."""
    try:
        data = _serializer().loads(token, max_age=60 * current_app.config["SIGN_IN_LINK_MINUTES"])
    except SignatureExpired:
        abort(410, description="This sign-in link has expired. Ask for a new one.")
    except BadSignature:
        abort(400, description="This is not a valid sign-in link.")
    link = db.session.get(SubjectSignIn, data.get("s")) if isinstance(data, dict) else None
    if link is None:
        abort(400, description="This is not a valid sign-in link.")
    if link.used_at is not None:
        abort(410, description="This sign-in link has already been used. Ask for a new one.")
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_template("portal/session.html", form=form)
    # Claimed in one statement, so that two presses at once cannot both sign in.
    claimed = changed_rows(db.session.execute(
        update(SubjectSignIn)
        .where(SubjectSignIn.id == link.id, SubjectSignIn.used_at.is_(None))
        .values(used_at=utcnow())
    ))
    if claimed != 1:
        db.session.rollback()
        abort(410, description="This sign-in link has already been used. Ask for a new one.")
    audit.record("subject.sign_in", actor=SUBJECT)
    db.session.commit()
    session.clear()
    minutes = current_app.config["SUBJECT_SESSION_MINUTES"]
    session["subject"] = {"email": link.email,
                          "until": (utcnow() + timedelta(minutes=minutes)).isoformat()}
    return redirect(url_for("subject.requests"))


@blueprint.route("/sign-out", methods=["POST"])
def sign_out() -> ResponseReturnValue:
    """End the subject's session."""
    if not ConfirmForm().validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    session.pop("subject", None)
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
                           readable=_readable, form=ConfirmForm())


def _readable(case: Request) -> bool:
    """Tell whether the request's report may be read now."""
    days = current_app.config["REPORT_AVAILABLE_DAYS"]
    return (case.type == "access" and case.state in ("fulfilled", "closed")
            and case.released_at is not None and case.answer is not None
            and utcnow() <= case.released_at + timedelta(days=days))


def _released(reference: str) -> Request:
    case = _own(reference)
    if not _readable(case):
        abort(410, description="This answer cannot be read here (any more). If you need it "
                               "again, make a new request; it costs nothing.")
    return case


@blueprint.route("/requests/<reference>/report")
@subject_required
def report_page(reference: str) -> str:
    """The answer, as a page."""
    case = _released(reference)
    audit.record("report.viewed", actor=SUBJECT, request_id=case.id, code="html")
    db.session.commit()
    return render_template("portal/report.html", case=case, report=case.answer)


@blueprint.route("/requests/<reference>/report.<fmt>")
@subject_required
def report_download(reference: str, fmt: str) -> Response:
    """The answer as JSON or CSV, for keeping or taking elsewhere."""
    if fmt not in ("json", "csv"):
        abort(404, description="Reports come as .json or .csv.")
    case = _released(reference)
    audit.record("report.downloaded", actor=SUBJECT, request_id=case.id, code=fmt)
    db.session.commit()
    compiled = case.answer or {}
    name = f"cloudtoko-answer-{case.reference}.{fmt}"
    if fmt == "json":
        response = current_app.response_class(
            current_app.json.dumps(compiled, indent=2), mimetype="application/json")
    else:
        response = Response(report.as_csv(compiled), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
