"""Rate limits of the public forms, where anyone may ask in anyone's name.

A client address may POST so many times (REQUEST_RATE_LIMIT); beyond that it gets a 429. An
e-mail address is never refused: someone else using it must not lock its owner out. What is
limited is the mail sent to it (REQUEST_RATE_LIMIT_PER_ADDRESS): beyond its budget, each
message a form asked for joins one digest for that address, sent when the budget frees, so
that its owner finds in their mailbox every link that was asked for (the newest few), and a
flood in their name costs them one e-mail more."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from flask import current_app
from limits import parse
from sqlalchemy import func, select

from dsr import audit, notify
from dsr.actors import SYSTEM
from dsr.database import utcnow
from dsr.extensions import db, limiter
from dsr.models import OutboxMessage

F = TypeVar("F", bound=Callable[..., Any])

DIGEST = "digest"
DIGEST_ITEMS = 5
_ITEM = "\n\n----- "
DIGEST_HEAD = ("Several e-mails were asked for this address in a short time. So that nobody "
               "can fill your inbox in your name, the later ones come together here, the "
               f"newest {DIGEST_ITEMS} of them; each link works as it says.")


def public_rate_limits(view: F) -> F:
    """Limit a public form's POSTs per client address."""
    per_client = limiter.limit(lambda: current_app.config["REQUEST_RATE_LIMIT"], methods=["POST"])
    return cast(F, per_client(view))


def mail_from_form(kind: str, to: str, template: str, *, request_id: int | None = None,
                   **context: object) -> None:
    """Queue an e-mail a public form asked for: on its own while the address's budget
    lasts, else in the address's digest."""
    budget = parse(current_app.config["REQUEST_RATE_LIMIT_PER_ADDRESS"])
    since = utcnow() - timedelta(seconds=budget.get_expiry())
    sent, oldest = db.session.execute(
        select(func.count(OutboxMessage.id), func.min(OutboxMessage.created_at)).where(
            OutboxMessage.to_address == to, OutboxMessage.created_at > since,
            OutboxMessage.kind != DIGEST, OutboxMessage.mailing_id.is_(None))).one()
    if sent < budget.amount:
        notify.enqueue(kind, to, template, request_id=request_id, **context)
        return
    subject, body = notify.render(template, **context)
    _add_to_digest(to, f"{subject} -----\n{body.strip()}",
                   oldest + timedelta(seconds=budget.get_expiry()))


def _add_to_digest(to: str, item: str, frees_at: datetime) -> None:
    digest = db.session.execute(select(OutboxMessage).where(
        OutboxMessage.to_address == to, OutboxMessage.kind == DIGEST,
        OutboxMessage.state == "pending").with_for_update()).scalar_one_or_none()
    if digest is None:
        digest = OutboxMessage(kind=DIGEST, to_address=to, subject="Your e-mails from us, "
                               "together", body=DIGEST_HEAD, next_attempt_at=frees_at)
        db.session.add(digest)
    items = [*digest.body.split(_ITEM)[1:], item]
    digest.body = DIGEST_HEAD + "".join(_ITEM + text for text in items[-DIGEST_ITEMS:])
    audit.record("mail.queued", actor=SYSTEM, code=DIGEST)
