"""The public pages: ask for your data or a correction, and confirm that the request is yours."""

import secrets

from flask import Blueprint, abort, current_app, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, SignatureExpired

from dsr import engine, notify
from dsr.actors import SUBJECT
from dsr.extensions import db
from dsr.models import STAFF_TYPES, Request
from dsr.portal.forms import ConfirmForm, RequestForm
from dsr.portal.intake import public_rate_limits, serializer, submit

blueprint = Blueprint("portal", __name__)


@blueprint.route("/")
def home() -> str:
    """Say what a person may ask, and where."""
    return render_template("portal/home.html")


@blueprint.route("/requests/new", methods=["GET", "POST"])
@public_rate_limits
def new_request() -> ResponseReturnValue:
    """Take a request and send the link that confirms it; answer the same for every address."""
    form = RequestForm()
    if not form.validate_on_submit():
        return render_template("portal/new.html", form=form), 400 if form.errors else 200
    submit(form.type.data or "access", form.email.data or "", form.name.data or "",
           form.message.data)
    db.session.commit()
    notify.deliver_soon(current_app._get_current_object())  # type: ignore[attr-defined]
    return redirect(url_for("portal.sent"))


@blueprint.route("/requests/sent")
def sent() -> str:
    """Tell the requester to look in their inbox, without saying whether we know them."""
    return render_template("portal/sent.html", hours=current_app.config["VERIFY_LINK_HOURS"])


def _verifiable(token: str) -> Request:
    max_age = int(current_app.config["VERIFY_LINK_HOURS"]) * 3600
    try:
        data = serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        abort(410, description="This link has expired. Please send your request again; "
                               "nothing was collected.")
    except BadSignature:
        abort(400, description="This is not a valid confirmation link. Copy the whole link "
                               "from the e-mail, or send your request again.")
    case = db.session.get(Request, data.get("r")) if isinstance(data, dict) else None
    if case is None or case.type not in STAFF_TYPES:
        abort(400, description="This is not a valid confirmation link.")
    if case.state == "expired":
        abort(410, description="This request expired before it was confirmed. Please send "
                               "it again; nothing was collected.")
    if case.state != "submitted" or not case.verify_nonce \
            or not secrets.compare_digest(case.verify_nonce, str(data.get("n"))):
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
