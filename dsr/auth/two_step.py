"""Two-step sign-in: a TOTP code (RFC 6238, pyotp) after the password, required for the roles
MFA_REQUIRED_ROLES names (legal and admin by default), open to every account; set up by
scanning a QR code (segno) and confirmed with a first code, with ten single-use recovery
codes for a lost device. A code works once: the time step it was taken for is kept."""

import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from flask import current_app
from markupsafe import Markup
from sqlalchemy import delete, update

from dsr.database import changed_rows, utcnow
from dsr.extensions import db
from dsr.models import RecoveryCode, User

ISSUER = "dsr"
STEP = 30
RECOVERY_CODES = 10


def required(user: User) -> bool:
    """Tell whether the account must sign in with a second step."""
    return user.has_role(*current_app.config["MFA_REQUIRED_ROLES"])


def enabled(user: User) -> bool:
    return user.totp_enabled_at is not None and user.totp_secret is not None


def new_secret() -> str:
    return pyotp.random_base32()


def qr_code(user: User, secret: str) -> Markup:
    """The secret as an authenticator app scans it: an inline SVG (no script, no style)."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    svg = segno.make(uri, error="m").svg_inline(scale=4, title="QR code of the secret")
    return Markup(svg)  # noqa: S704 (segno's own markup, from our own URI)


def _digits(code: str) -> str:
    return "".join(code.split())


def matching_step(secret: str, code: str, after: int | None) -> int | None:
    """The time step (now, or one either side) whose code `code` is, if later than `after`."""
    code, now = _digits(code), int(time.time()) // STEP
    totp = pyotp.TOTP(secret)
    for step in (now - 1, now, now + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step),
                                                                   code):
            return step
    return None


def take_code(user: User, code: str) -> str | None:
    """Accept a TOTP code (once) or an unused recovery code for `user`; say which ("totp",
    "recovery"), or None. The step or the code is spent in the caller's transaction."""
    if user.totp_secret and len(_digits(code)) == 6 and _digits(code).isdigit():
        step = matching_step(user.totp_secret, code, user.totp_last_step)
        if step is not None and changed_rows(db.session.execute(
                update(User).where(User.id == user.id, (User.totp_last_step.is_(None))
                                   | (User.totp_last_step < step))
                .values(totp_last_step=step))) == 1:
            return "totp"
        return None
    spent = changed_rows(db.session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                   RecoveryCode.code_hash == _hashed(code),
                                   RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())))
    return "recovery" if spent == 1 else None


def _hashed(code: str) -> str:
    return hashlib.sha256(_digits(code).lower().encode()).hexdigest()


def enrol(user: User, secret: str, code: str) -> list[str] | None:
    """Set the account's secret up once `code` shows the app holds it; return its new
    recovery codes (shown once), or None when the code does not match."""
    step = matching_step(secret, code, None)
    if step is None:
        return None
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = secret, utcnow(), step
    return issue_recovery_codes(user)


def issue_recovery_codes(user: User) -> list[str]:
    """Replace the account's recovery codes with ten new ones; return them (shown once)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hashed(c)) for c in codes)
    return codes


def reset(user: User) -> None:
    """Take the second step away (a lost device and no codes): it is set up again at the
    next sign-in, where required. Ends the account's sessions."""
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    user.end_sessions()
