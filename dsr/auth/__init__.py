"""Staff sign-in: password hashing, the user loader and the role check for views."""

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import abort, current_app
from flask_login import current_user, login_required
from sqlalchemy import select

from dsr.extensions import db
from dsr.models import User

F = TypeVar("F", bound=Callable[..., Any])

# Verifying against this hash when no account matches makes a wrong e-mail address take as
# long as a wrong password, so sign-in timing does not reveal which addresses have accounts.
_DUMMY_PASSWORD = "dsr-no-such-account"  # noqa: S105


def _dummy_hash() -> str:
    dummy = current_app.extensions.get("dsr.dummy_hash")
    if dummy is None:
        dummy = current_app.extensions["dsr.dummy_hash"] = _hasher().hash(_DUMMY_PASSWORD)
    return cast(str, dummy)


def _hasher() -> PasswordHasher:
    config = current_app.config
    hasher = current_app.extensions.get("dsr.hasher")
    if hasher is None:
        hasher = PasswordHasher(
            time_cost=config["ARGON2_TIME_COST"],
            memory_cost=config["ARGON2_MEMORY_COST"],
            parallelism=config["ARGON2_PARALLELISM"],
        )
        current_app.extensions["dsr.hasher"] = hasher
    return cast(PasswordHasher, hasher)


def hash_password(password: str) -> str:
    """Return the Argon2id hash of `password` with the configured cost."""
    return _hasher().hash(password)


def authenticate(email: str, password: str) -> User | None:
    """Return the active account with this e-mail address and password, or None."""
    user = db.session.execute(
        select(User).where(User.email == email.strip().lower())
    ).scalar_one_or_none()
    hasher = _hasher()
    try:
        if user is None:
            hasher.verify(_dummy_hash(), password)
            return None
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if not user.active:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return user


def load_user(session_id: str) -> User | None:
    """Flask-Login's loader: the account behind a session, if active and not signed out."""
    user_id, _, token = session_id.partition(":")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.active or not secrets.compare_digest(token, user.session_token):
        return None
    return user


def roles_required(*roles: str) -> Callable[[F], F]:
    """Let a view run only for signed-in accounts holding one of `roles`; 403 otherwise."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_role(*roles):
                abort(403, description=f"This page needs the role {' or '.join(roles)}.")
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorator
