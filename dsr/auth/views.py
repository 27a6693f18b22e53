"""Sign-in and sign-out for staff, legal and admins."""

import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from dsr import audit
from dsr.actors import SYSTEM, Actor
from dsr.auth import authenticate, two_step
from dsr.auth.forms import CodeForm, SetUpForm, SignInForm
from dsr.extensions import db, limiter
from dsr.models import User

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


def _account_key() -> str:
    """Failed sign-ins are counted per account named, whether or not it exists."""
    return "account:" + (request.form.get("email") or "").strip().lower()


def _failed(response: Response) -> bool:
    return response.status_code == 401


@blueprint.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_RATE_LIMIT"], methods=["POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_ACCOUNT_RATE_LIMIT"], methods=["POST"],
               key_func=_account_key, deduct_when=_failed)
def sign_in() -> str | Response | tuple[str, int]:
    """Show the sign-in form; when the password matches, sign the account in, or go on to
    its second step (or to setting one up, where its roles require it)."""
    if current_user.is_authenticated:
        return redirect(url_for("auth.home"))
    form = SignInForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            target = _safe_next(request.args.get("next"))
            if two_step.enabled(user) or two_step.required(user):
                session["two_step"] = {"user": user.id, "token": user.session_token,
                                       "next": target, "until": time.time() + PENDING}
                audit.record("auth.password_accepted", actor=Actor.for_user(user))
                db.session.commit()
                return redirect(url_for("auth.second_step" if two_step.enabled(user)
                                        else "auth.set_up_second_step"))
            login_user(user)
            audit.record("auth.sign_in", actor=Actor.for_user(user))
            db.session.commit()
            return redirect(target)
        audit.record("auth.sign_in_failed", actor=SYSTEM)
        db.session.commit()
        flash("That e-mail address and password do not match an active account.", "error")
        return render_template("auth/sign_in.html", form=form), 401
    status = 400 if form.errors else 200
    return render_template("auth/sign_in.html", form=form), status


# How long the second step may follow the password.
PENDING = 300


def _pending() -> User | None:
    """The account whose password was just accepted in this browser, if still waiting."""
    data = session.get("two_step")
    if not isinstance(data, dict) or data.get("until", 0) < time.time():
        session.pop("two_step", None)
        return None
    user = db.session.get(User, data.get("user"))
    if user is None or not user.active or user.session_token != data.get("token"):
        return None
    return user


def _pending_key() -> str:
    data = session.get("two_step")
    return f"second-step:{data.get('user') if isinstance(data, dict) else '-'}"


def _signed_in(user: User, via: str) -> str:
    """Sign in the account whose second step just passed; return where it was going."""
    target = session.pop("two_step", {}).get("next") or url_for("auth.home")
    login_user(user)
    audit.record("auth.sign_in", actor=Actor.for_user(user), via=via)
    return _safe_next(target)


@blueprint.route("/sign-in/code", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_ACCOUNT_RATE_LIMIT"], methods=["POST"],
               key_func=_pending_key, deduct_when=_failed)
def second_step() -> str | Response | tuple[str, int]:
    """Ask the account whose password was accepted for its code."""
    user = _pending()
    if user is None or not two_step.enabled(user):
        flash("Sign in with your password first.", "error")
        return redirect(url_for("auth.sign_in"))
    form = CodeForm()
    if form.validate_on_submit():
        via = two_step.take_code(user, form.code.data or "")
        if via is not None:
            target = _signed_in(user, via)
            db.session.commit()
            return redirect(target)
        audit.record("auth.second_step_failed", actor=Actor.for_user(user))
        db.session.commit()
        flash("That code is not right, or was used already. Codes change every 30 seconds.",
              "error")
        return render_template("auth/code.html", form=form), 401
    return render_template("auth/code.html", form=form), 400 if form.errors else 200


@blueprint.route("/two-step", methods=["GET", "POST"])
def set_up_second_step() -> str | Response | tuple[str, int]:
    """Set up a second step: for an account whose roles require one before it signs in,
    or for a signed-in account that wants one."""
    user = current_user if current_user.is_authenticated else _pending()
    if user is None:
        return redirect(url_for("auth.sign_in"))
    if two_step.enabled(user):
        flash("Two-step sign-in is set up for this account.", "info")
        return redirect(url_for("auth.home"))
    secret = session.get("two_step_secret") or two_step.new_secret()
    session["two_step_secret"] = secret
    form = SetUpForm()
    if form.validate_on_submit():
        codes = two_step.enrol(user, secret, form.code.data or "")
        if codes is not None:
            session.pop("two_step_secret", None)
            audit.record("auth.two_step_set_up", actor=Actor.for_user(user))
            target = url_for("auth.home") if current_user.is_authenticated \
                else _signed_in(user, "totp")
            db.session.commit()
            return render_template("auth/recovery_codes.html", codes=codes, target=target)
        flash("That code does not match. Check the app's clock, and enter the code it shows "
              "now.", "error")
        status = 400
    else:
        status = 400 if form.errors else 200
    return render_template("auth/two_step.html", form=form, secret=secret,
                           qr=two_step.qr_code(user, secret)), status


@blueprint.before_app_request
def require_second_step() -> Response | None:
    """Send a signed-in account whose roles require a second step it has not set up (one
    signed in before the rule, say) to set it up first."""
    if not current_user.is_authenticated or request.endpoint in (
            "auth.set_up_second_step", "auth.sign_out", "static"):
        return None
    if two_step.required(current_user) and not two_step.enabled(current_user):
        return redirect(url_for("auth.set_up_second_step"))
    return None


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
