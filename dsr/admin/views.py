"""The admin's pages: the start page, and the privacy policy's versions with the mailing
that tells customers of each."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from dsr import audit, jobs, policy, retention
from dsr.actors import Actor
from dsr.admin.forms import PolicyForm, PublishForm
from dsr.auth import roles_required
from dsr.extensions import db
from dsr.models import PolicyMailing, PolicyVersion, User
from dsr.policy import notices
from dsr.retention import sources as source_ages

blueprint = Blueprint("admin", __name__, url_prefix="/admin")


def _actor() -> Actor:
    return Actor.for_user(current_user)


@blueprint.route("/")
@roles_required("admin")
def index() -> str:
    """List what an admin manages here and on the server."""
    return render_template("admin/index.html")


@blueprint.route("/policy/")
@roles_required("admin")
def policies() -> str:
    """The drafts and every published version with its mailing."""
    mailings = {m.version_id: m for m in db.session.execute(select(PolicyMailing)).scalars()}
    return render_template("admin/policies.html", drafts=policy.drafts(),
                           history=policy.history(), mailings=mailings)


@blueprint.route("/policy/new", methods=["GET", "POST"])
@roles_required("admin")
def new_policy() -> ResponseReturnValue:
    """Start a draft, from the newest version's text."""
    newest = next(iter(policy.published()), None)
    form = PolicyForm(data={"text": newest.text} if newest else None)
    if not form.validate_on_submit():
        return render_template("admin/policy_edit.html", form=form, draft=None), \
            400 if form.errors else 200
    try:
        draft = policy.save_draft(None, text=form.text.data or "",
                                  effective_on=form.effective_on.data,
                                  summary=form.summary.data or "", actor=_actor())
    except policy.PolicyError as error:
        form.effective_on.errors = [str(error)]
        return render_template("admin/policy_edit.html", form=form, draft=None), 400
    db.session.commit()
    flash("Draft saved. Read the preview below before you publish.", "success")
    return redirect(url_for("admin.draft", draft_id=draft.id))


def _draft(draft_id: int) -> PolicyVersion:
    draft = db.session.get(PolicyVersion, draft_id)
    if draft is None:
        abort(404, description="No such draft.")
    if draft.published:
        abort(409, description=f"This draft was published as version {draft.number}: a "
                               "published version is never edited. Write a new version.")
    return draft


def _draft_page(draft: PolicyVersion, form: PolicyForm, publish: PublishForm,
                status: int = 200) -> tuple[str, int]:
    current, newest = policy.in_force(), next(iter(policy.published()), None)
    return render_template(
        "admin/policy_edit.html", form=form, draft=draft, publish=publish, current=current,
        number=(newest.number or 0) + 1 if newest else 1,
        upcoming=policy.upcoming(), preview=policy.render(draft.text),
        lines=policy.compare(current.text if current else "", draft.text),
        listing=[s.title for s in notices.listing_sources()]), status


@blueprint.route("/policy/drafts/<id:draft_id>", methods=["GET", "POST"])
@roles_required("admin")
def draft(draft_id: int) -> ResponseReturnValue:
    """Edit a draft, with its preview and what changes against the version in force."""
    draft = _draft(draft_id)
    form = PolicyForm(obj=draft)
    if form.is_submitted() and not form.validate():
        return _draft_page(draft, form, PublishForm(formdata=None), 400)
    if form.is_submitted():
        try:
            policy.save_draft(draft, text=form.text.data or "", summary=form.summary.data or "",
                              effective_on=form.effective_on.data,
                              actor=_actor())
        except policy.PolicyError as error:
            db.session.rollback()
            form.effective_on.errors = [str(error)]
            return _draft_page(_draft(draft_id), form, PublishForm(formdata=None), 400)
        db.session.commit()
        flash("Draft saved.", "success")
        return redirect(url_for("admin.draft", draft_id=draft_id))
    return _draft_page(draft, form, PublishForm(formdata=None))


@blueprint.post("/policy/drafts/<id:draft_id>/publish")
@roles_required("admin")
def publish(draft_id: int) -> ResponseReturnValue:
    """Publish the draft as the next version and e-mail every customer."""
    draft = _draft(draft_id)
    confirm = PublishForm()
    if not confirm.validate_on_submit():
        return _draft_page(draft, PolicyForm(obj=draft, formdata=None), confirm, 400)
    try:
        policy.publish(draft, actor=_actor())
    except policy.PolicyError as error:
        db.session.rollback()
        flash(f"Not published: {error}", "error")
        return _draft_page(_draft(draft_id), PolicyForm(obj=draft, formdata=None),
                           PublishForm(formdata=None), 400)
    db.session.commit()
    flash(f"Version {draft.number} is published and takes effect on "
          f"{draft.effective_on:%-d %B %Y}. Every customer is being told.", "success")
    return redirect(url_for("admin.published", number=draft.number))


@blueprint.post("/policy/drafts/<id:draft_id>/discard")
@roles_required("admin")
def discard(draft_id: int) -> ResponseReturnValue:
    """Delete a draft."""
    policy.discard(_draft(draft_id), actor=_actor())
    db.session.commit()
    flash("Draft deleted.", "success")
    return redirect(url_for("admin.policies"))


def _published(number: int) -> tuple[PolicyVersion, PolicyMailing | None]:
    version = policy.by_number(number)
    if version is None:
        abort(404, description="No published version by that number.")
    mailing = db.session.execute(
        select(PolicyMailing).where(PolicyMailing.version_id == version.id)).scalar_one_or_none()
    return version, mailing


@blueprint.route("/policy/<int:number>")
@roles_required("admin")
def published(number: int) -> str:
    """A published version: who published it when, and how telling the customers goes."""
    version, mailing = _published(number)
    publisher = db.session.get(User, version.published_by) if version.published_by else None
    return render_template("admin/policy_published.html", version=version, mailing=mailing,
                           progress=notices.progress(mailing) if mailing else None,
                           publisher=publisher, mail_server=current_app.config["MAIL_SERVER"])


@blueprint.route("/policy/<int:number>/mailing.json")
@roles_required("admin")
def mailing_progress(number: int) -> ResponseReturnValue:
    """The mailing's counts, for the progress bar to update itself."""
    _, mailing = _published(number)
    if mailing is None:
        abort(404, description="This version was published without a mailing.")
    return notices.progress(mailing)


@blueprint.post("/policy/<int:number>/retry")
@roles_required("admin")
def retry(number: int) -> ResponseReturnValue:
    """Send the mailing's failed messages again."""
    _, mailing = _published(number)
    if mailing is None:
        abort(404, description="This version was published without a mailing.")
    retried = notices.retry_failed(mailing, actor=_actor())
    db.session.commit()
    flash(f"{retried} failed message{'s' if retried != 1 else ''} will be sent again."
          if retried else "No message has failed.", "success")
    return redirect(url_for("admin.published", number=number))


@blueprint.post("/policy/<int:number>/list-again")
@roles_required("admin")
def list_again(number: int) -> ResponseReturnValue:
    """List the customers again, after a source could not list them."""
    _, mailing = _published(number)
    if mailing is None or mailing.state == "listing":
        abort(409, description="The customers are being listed now.")
    notices.list_again(mailing, actor=_actor())
    db.session.commit()
    flash("The customers are listed again; only those not yet told are added.", "success")
    return redirect(url_for("admin.published", number=number))


@blueprint.route("/retention")
@roles_required("admin")
def retention_report() -> str:
    """What each retention rule keeps, deletes, and will purge when, and what the sources
    hold past their stated retention, as last counted (counts, no records)."""
    return render_template("admin/retention.html", standings=retention.report(),
                           sources=source_ages.last_counted(), past_it=source_ages.past_it)


@blueprint.post("/retention/count")
@roles_required("admin")
def count_sources() -> ResponseReturnValue:
    """Ask the sources again, in the background, what they hold past their retention."""
    jobs.declare(COUNT_SOURCES)
    audit.record("retention.count_requested", actor=_actor())
    db.session.commit()
    flash("The sources are being asked; reload this page in a moment.", "success")
    return redirect(url_for("admin.retention_report"))


COUNT_SOURCES = "dsr.retention.sources.count_all_job"
