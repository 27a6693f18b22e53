"""Sign-in and sign-out for staff, legal and admins."""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from dsr import audit
from dsr.actors import SYSTEM, Actor
from dsr.auth import authenticate
from dsr.auth.forms import SignInForm
from dsr.extensions import db, limiter

blueprint = Blueprint("auth", __name__, url_prefix="/staff")


def _safe_next(target: str | None) -> str:
    """Follow ?next= only to a path on this site, never to another host."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("auth.home")


@blueprint.route("/")
@login_required
def home() -> str | Response:
    """Send staff to the queue, legal to the disclosure register and admins to their pages;
    tell other roles what the console holds for them."""
    if current_user.has_role("staff"):
        return redirect(url_for("console.queue"))
    if current_user.has_role("legal"):
        return redirect(url_for("legal.index"))
    if current_user.has_role("admin"):
        return redirect(url_for("admin.index"))
    return render_template("auth/home.html")


@blueprint.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_RATE_LIMIT"], methods=["POST"])
def sign_in() -> str | Response | tuple[str, int]:
    """Show the sign-in form; sign the account in when the password matches."""
    if current_user.is_authenticated:
        return redirect(url_for("auth.home"))
    form = SignInForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            login_user(user)
            audit.record("auth.sign_in", actor=Actor.for_user(user))
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        audit.record("auth.sign_in_failed", actor=SYSTEM)
        db.session.commit()
        flash("That e-mail address and password do not match an active account.", "error")
        return render_template("auth/sign_in.html", form=form), 401
    status = 400 if form.errors else 200
    return render_template("auth/sign_in.html", form=form), status


@blueprint.route("/sign-out", methods=["POST"])
@login_required
def sign_out() -> Response:
    """Sign the account out (POST, so that a link on another site cannot do it)."""
    audit.record("auth.sign_out", actor=Actor.for_user(current_user))
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.sign_in"))
