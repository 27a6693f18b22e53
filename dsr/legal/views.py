"""Legal's lawful-disclosure register: open a record as an authority's request arrives, decide
it with a second pair of eyes, collect and seal the package, record the delivery, tell the
subject or defer under a gag order, and count it all in the transparency report. Only the
legal role sees any of it, and every view, download and export is audited."""

import io
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectChoice

from dsr import audit, collection, disclosures, engine, jobs
from dsr.actors import Actor
from dsr.adapters.registry import configured
from dsr.auth import roles_required
from dsr.database import utcnow
from dsr.disclosures import Intake, documents, record_of, transparency
from dsr.extensions import db
from dsr.legal.forms import ActionForm, ApproveForm, IntakeForm
from dsr.models import Disclosure, DisclosureDocument, Request, User
from dsr.web import transitions
from dsr.web.form_errors import flash_form_errors
from dsr.web.request_view import viewed

blueprint = Blueprint("legal", __name__, url_prefix="/legal")


def _actor() -> Actor:
    return Actor.for_user(current_user)


@blueprint.route("/")
@roles_required("legal")
def index() -> str:
    """The register: open records first, emergencies before the rest, soonest due first; and
    the reminders of gag orders about to lapse."""
    rows = db.session.execute(
        select(Request, Disclosure).join(Disclosure, Disclosure.request_id == Request.id)
        .order_by(Request.state.in_(("closed", "refused", "withdrawn")),
                  Disclosure.emergency.desc(), Request.due_at, Request.id)
        .limit(current_app.config["PAGE_SIZE"])).all()
    lapsing = disclosures.lapsing(timedelta(days=current_app.config["GAG_REMINDER_DAYS"]))
    answered = set(engine.workflow_for("disclosure")["answered"])
    # Rendered before the view is recorded: the commit would expire the rows (a reload each).
    page = render_template("legal/index.html", rows=rows, lapsing=lapsing, now=utcnow(),
                           answered=answered, instruments=disclosures.INSTRUMENTS,
                           today=utcnow().date())
    audit.record("disclosures.listed", actor=_actor(), rows=len(rows))
    db.session.commit()
    return page


@blueprint.route("/new", methods=["GET", "POST"])
@roles_required("legal")
def new() -> ResponseReturnValue:
    """Open a record for a request as it arrived, with its documents."""
    form = IntakeForm()
    if not form.is_submitted():
        form.received_at.data = utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])
                                                    ).replace(tzinfo=None, second=0,
                                                              microsecond=0)
    if not form.validate_on_submit():
        return render_template("legal/new.html", form=form), 400 if form.errors else 200
    intake = Intake(
        received_at=form.received_utc(), channel=form.channel.data or "",
        authority=form.authority.data or "", officer=form.officer.data or "",
        contact=form.contact.data or "", country=form.country.data or "",
        authenticity_check=form.authenticity_check.data or "",
        authenticity_result=form.authenticity_result.data or "",
        instrument=form.instrument.data or "", citation=form.citation.data or "",
        emergency=bool(form.emergency.data), targets=form.parsed_targets(),
        range_from=form.range_from.data, range_to=form.range_to.data,
        data_types=list(form.data_types.data or []), deadline=form.deadline_utc(),
        notify_email=(form.notify_email.data or "").lower() or None)
    case = disclosures.open_disclosure(intake, actor=_actor(), user_id=current_user.id)
    try:
        for upload in form.documents.data or []:
            if upload and upload.filename:
                document = documents.store(upload, case.id, current_user.id)
                db.session.flush()
                audit.record("document.added", actor=_actor(), request_id=case.id,
                             code=document.content_type)
    except documents.DocumentRefused as refused:
        db.session.rollback()
        form.documents.errors = [str(refused)]
        return render_template("legal/new.html", form=form), 400
    db.session.commit()
    flash(f"Record {case.reference} opened; it is due {case.due_at:%d %b %Y %H:%M} UTC.",
          "success")
    return redirect(url_for("legal.record", reference=case.reference))


def _disclosure(reference: str) -> tuple[Request, Disclosure]:
    case = engine.find_request(reference, ("disclosure",))
    if case is None:
        abort(404, description="There is no disclosure record with that reference.")
    return case, record_of(case)


def _render(case: Request, record: Disclosure, status: int = 200,
            action: ActionForm | None = None, approve: ApproveForm | None = None
            ) -> tuple[str, int]:
    """The record's page; it shows what an authority asked about a person: audited."""
    shown = viewed(case, _actor(), "disclosure.view")
    ids = [i for i in (record.opened_by, record.approved_by) if i]
    users = {user_id: email for user_id, email in db.session.execute(
        select(User.id, User.email).where(User.id.in_(ids))).all()}
    docs = db.session.execute(select(DisclosureDocument).where(
        DisclosureDocument.request_id == case.id).order_by(DisclosureDocument.id)).scalars()
    if approve is None:
        approve = ApproveForm(formdata=None, data={
            "targets": [_target_key(t) for t in record.targets],
            "data_types": record.data_types,
            "range_from": record.range_from, "range_to": record.range_to})
    _offer(approve, record)
    return render_template(
        "legal/record.html", case=case, record=record, users=users, documents=list(docs),
        action=action or ActionForm(), approve=approve, now=utcnow(), today=utcnow().date(),
        d=disclosures, outcome=disclosures.outcome(case, record),
        narrowed=disclosures.narrowed(record),
        four_eyes=current_app.config["DISCLOSURE_FOUR_EYES"], stale_before=jobs.stale_before(),
        **shown,
    ), status


def _offer(form: ApproveForm, record: Disclosure) -> None:
    """Offer what was asked for, to approve all or less of it."""
    form.targets.choices = [
        SelectChoice(_target_key(t), f"{disclosures.TARGET_KINDS[t['kind']]}: {t['value']}")
        for t in record.targets]
    form.data_types.choices = [SelectChoice(k, disclosures.DATA_TYPES[k][0])
                               for k in record.data_types]


def _target_key(target: dict[str, str]) -> str:
    return f"{target['kind']}:{target['value']}"


@blueprint.route("/<reference>")
@roles_required("legal")
def record(reference: str) -> tuple[str, int]:
    """One record: the request, the decision, the package, the subject's notice."""
    return _render(*_disclosure(reference))


@blueprint.route("/<reference>/approve", methods=["POST"])
@roles_required("legal")
def approve(reference: str) -> ResponseReturnValue:
    """Approve the disclosure, narrowed if fewer targets, kinds of data or days are ticked."""
    case, record = _disclosure(reference)
    form = ApproveForm()
    _offer(form, record)
    if not form.validate_on_submit():
        flash_form_errors("The approval was not recorded", form)
        return _render(case, record, 400, approve=form)
    chosen = set(form.targets.data or [])
    record.approved_targets = [t for t in record.targets if _target_key(t) in chosen]
    record.approved_types = [k for k in record.data_types if k in (form.data_types.data or [])]
    record.approved_from = form.range_from.data or record.range_from
    record.approved_to = form.range_to.data or record.range_to
    record.narrowing_reason = (form.narrowing_reason.data or "").strip() or None
    try:
        transitions.fire(case, "approve", actor=_actor(), version=form.version.data or "")
    except engine.TransitionError as error:
        flash(error.message, "error")
        case, record = _disclosure(reference)
        return _render(case, record, error.status, approve=form)
    flash("Approved" + (" (narrowed)." if disclosures.narrowed(record) else "."), "success")
    return redirect(url_for("legal.record", reference=reference))


@blueprint.route("/<reference>/transitions", methods=["POST"])
@roles_required("legal")
def transition(reference: str) -> ResponseReturnValue:
    """Fire one of the record's actions with the data it takes."""
    case, record = _disclosure(reference)
    form = ActionForm()
    if not form.validate_on_submit():
        flash("The form was incomplete or has expired; please try again.", "error")
        return _render(case, record, 400, action=form)
    trigger = form.trigger.data or ""
    given = {"reason": form.reason.data or "", "delivery": form.delivery.data or "",
             "until": form.until.data.isoformat() if form.until.data else ""}
    try:
        transitions.fire(case, trigger, actor=_actor(), version=form.version.data or "",
                         given=given)
    except engine.TransitionError as error:
        flash(error.message, "error")
        case, record = _disclosure(reference)
        return _render(case, record, error.status, action=form)
    flash(f"Done: the record is now {case.state.replace('_', ' ')}.", "success")
    return redirect(url_for("legal.record", reference=reference))


@blueprint.route("/<reference>/sources/<source>/retry", methods=["POST"])
@roles_required("legal")
def retry_source(reference: str, source: str) -> ResponseReturnValue:
    """Ask one source again while collecting (only what was approved, as before)."""
    case, record = _disclosure(reference)
    if not FlaskForm().validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    if source not in configured():
        abort(404, description="There is no such source.")
    if case.state != "collecting":
        flash("Sources can be asked again only while the record is collecting.", "error")
        return _render(case, record, 409)
    collection.start(case, _actor(), [source])
    db.session.commit()
    flash(f"Asking {source} again.", "success")
    return redirect(url_for("legal.record", reference=reference))


@blueprint.route("/<reference>/documents/<id:document_id>")
@roles_required("legal")
def document(reference: str, document_id: int) -> Response:
    """Download a document of the record (audited)."""
    case, _ = _disclosure(reference)
    found = db.session.get(DisclosureDocument, document_id)
    if found is None or found.request_id != case.id:
        abort(404, description="There is no such document on this record.")
    try:
        data = documents.read(found)
    except OSError:
        abort(410, description="The stored document is missing or damaged; restore it from "
                               "the backup.")
    audit.record("document.downloaded", actor=_actor(), request_id=case.id,
                 code=found.content_type)
    db.session.commit()
    response = send_file(io.BytesIO(data), mimetype=found.content_type, as_attachment=True,
                         download_name=found.filename, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blueprint.route("/<reference>/package.json")
@roles_required("legal")
def package(reference: str) -> Response:
    """Download the sealed package, for delivery (audited)."""
    case, record = _disclosure(reference)
    if record.purged_at is not None:
        abort(404, description="The package was deleted under the retention rule "
                               "disclosures; its SHA-256 is kept on the record.")
    if record.package is None:
        abort(404, description="The package is sealed when it is reviewed.")
    audit.record("package.downloaded", actor=_actor(), request_id=case.id)
    db.session.commit()
    response = Response(record.package, mimetype="application/json")
    response.headers["Content-Disposition"] = \
        f'attachment; filename="disclosure-{case.reference}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _period() -> tuple[int, str]:
    year = request.args.get("year", "")
    by = request.args.get("by", "quarter")
    if by not in ("quarter", "year") or (year and not (
            year.isascii() and year.isdigit() and 1000 <= int(year) <= 9998)):
        abort(400, description="Choose a year such as 2026, by quarter or by year.")
    return int(year) if year else utcnow().year, by


@blueprint.route("/transparency")
@roles_required("legal")
def transparency_page() -> str:
    """The transparency report for a year, by quarter or year, with a chart; printable."""
    year, by = _period()
    report = transparency.compile_report(year, by)
    audit.record("transparency.viewed", actor=_actor(), code=str(year))
    db.session.commit()
    return render_template("legal/transparency.html", report=report,
                           bars=transparency.chart(report), d=disclosures)


@blueprint.route("/transparency.csv")
@roles_required("legal")
def transparency_csv() -> Response:
    """The transparency report as CSV, ready to publish (audited)."""
    year, by = _period()
    report = transparency.compile_report(year, by)
    audit.record("transparency.exported", actor=_actor(), code=str(year))
    db.session.commit()
    response = Response(transparency.as_csv(report), mimetype="text/csv")
    response.headers["Content-Disposition"] = \
        f'attachment; filename="transparency-{year}-by-{by}.csv"'
    return response
