"""E-mail through the transactional outbox: enqueue() writes a message in the caller's
transaction, and declares the job that delivers it after the commit; deliver_pending() hands
pending messages to the SMTP server (Flask-Mail's MAIL_* settings), retrying with backoff, and
runs periodically too. With no MAIL_SERVER nothing is sent, and in a demo the messages are
read on the development mailbox page instead."""

import logging
import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from flask import current_app, render_template
from sqlalchemy import select, update

from dsr import audit, jobs
from dsr.actors import SYSTEM
from dsr.database import changed_rows, utcnow
from dsr.extensions import db
from dsr.models import OutboxMessage

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=6)
SENDING_LEASE = timedelta(minutes=10)
DELIVER = "dsr.notify.deliver_pending"


def public_url(endpoint: str, **values: Any) -> str:
    """An absolute link for an e-mail, on PUBLIC_URL, whether or not a request is running."""
    # Built from the URL map, not url_for: jobs run from cron have no request to build on.
    path = current_app.url_map.bind("dsr.invalid").build(endpoint, values)
    return str(current_app.config["PUBLIC_URL"]).rstrip("/") + path


def enqueue(kind: str, to: str, template: str, *, request_id: int | None = None,
            **context: object) -> OutboxMessage:
    """Render templates/mail/<template>.txt (its first line is "Subject: ...") into a pending
    message, in the current transaction."""
    text = render_template(f"mail/{template}.txt", **context)
    first, _, body = text.lstrip().partition("\n")
    if not first.startswith("Subject: "):
        raise ValueError(f"mail/{template}.txt must start with a Subject: line")
    message = OutboxMessage(kind=kind, to_address=to, subject=first.removeprefix("Subject: "),
                            body=body.strip() + "\n", request_id=request_id)
    db.session.add(message)
    audit.record("mail.queued", actor=SYSTEM, request_id=request_id, code=kind)
    if current_app.config["MAIL_SERVER"] and current_app.config["OUTBOX_DELIVER_AFTER_COMMIT"]:
        jobs.declare(DELIVER)  # so that the person waiting for the page never waits for SMTP
    return message


def _email(message: OutboxMessage) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    mail["To"] = message.to_address
    mail["Subject"] = message.subject
    mail["Message-ID"] = make_msgid(idstring=f"dsr-{message.id}")
    mail.set_content(message.body)
    return mail


def _connect() -> smtplib.SMTP:
    config = current_app.config
    timeout = float(config["MAIL_TIMEOUT"])
    if config["MAIL_USE_SSL"]:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(config["MAIL_SERVER"], config["MAIL_PORT"],
                                              timeout=timeout,
                                              context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout)
        if config["MAIL_USE_TLS"]:
            smtp.starttls(context=ssl.create_default_context())
    if config["MAIL_USERNAME"]:
        smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
    return smtp


def _postpone(message: OutboxMessage, reason: str) -> None:
    message.state = "pending"
    message.attempts += 1
    message.last_error = reason[:200]
    if message.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        message.state = "failed"
    else:
        message.next_attempt_at = utcnow() + min(timedelta(minutes=2**message.attempts),
                                                 MAX_BACKOFF)


def deliver_pending(limit: int = 200) -> tuple[int, int]:
    """Send the messages that are due; return how many were sent and how many postponed.
    Commits, like a command."""
    if not current_app.config["MAIL_SERVER"]:
        return 0, 0
    candidates = db.session.execute(
        select(OutboxMessage.id)
        .where(OutboxMessage.state.in_(("pending", "sending")),
               OutboxMessage.next_attempt_at <= utcnow())
        .order_by(OutboxMessage.id).limit(limit)
    ).scalars().all()
    # Each message is claimed in one statement and the claim committed, so that two senders
    # (threads after two commits, or cron beside them) never send it twice. A claim whose
    # sender died is taken over once SENDING_LEASE has passed.
    due: list[OutboxMessage] = []
    for message_id in candidates:
        claimed = changed_rows(db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id,
                   OutboxMessage.state.in_(("pending", "sending")),
                   OutboxMessage.next_attempt_at <= utcnow())
            .values(state="sending", next_attempt_at=utcnow() + SENDING_LEASE)
        ))
        db.session.commit()
        message = db.session.get(OutboxMessage, message_id) if claimed == 1 else None
        if message is not None:
            due.append(message)
    if not due:
        return 0, 0
    sent, handled = 0, set()
    try:
        with _connect() as smtp:
            for message in due:
                try:
                    smtp.send_message(_email(message))
                except smtplib.SMTPResponseException as error:
                    _postpone(message, f"{type(error).__name__} {error.smtp_code}")
                except smtplib.SMTPRecipientsRefused:
                    _postpone(message, "SMTPRecipientsRefused")
                else:
                    message.state, message.sent_at = "sent", utcnow()
                    sent += 1
                handled.add(message.id)
    except (OSError, smtplib.SMTPException) as error:
        for message in due:
            if message.id not in handled:
                _postpone(message, f"cannot reach the SMTP server ({type(error).__name__})")
        log.warning("SMTP delivery failed: %s", type(error).__name__)
    db.session.commit()
    return sent, len(due) - sent
