"""Rate limits of the public forms, where anyone may ask in anyone's name."""

from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import current_app, request

from dsr.extensions import limiter

F = TypeVar("F", bound=Callable[..., Any])


def public_rate_limits(view: F) -> F:
    """Limit a public form's POSTs per client address and per e-mail address."""
    per_address = limiter.limit(
        lambda: current_app.config["REQUEST_RATE_LIMIT_PER_ADDRESS"], methods=["POST"],
        key_func=address_key,
    )
    per_client = limiter.limit(lambda: current_app.config["REQUEST_RATE_LIMIT"], methods=["POST"])
    return cast(F, per_client(per_address(view)))


def address_key() -> str:
    """Rate limits per e-mail address: the address in the form or JSON body."""
    body = request.get_json(silent=True) if request.is_json else None
    email = (body or {}).get("email") if isinstance(body, dict) else request.form.get("email")
    return str(email or "").strip().lower() or "-"
