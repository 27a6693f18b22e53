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
DELIVER = "dsr.notify.deliver_pending"


def public_url(endpoint: str, **values: Any) -> str:
    """An absolute link for an e-mail, on PUBLIC_URL, whether or not a request is running."""
    # Built from the URL map, not url_for: jobs run from cron have no request to build on.
    path = current_app.url_map.bind("dsr.invalid").build(endpoint, values)
    return str(current_app.config["PUBLIC_URL"]).rstrip("/") + path


def render(template: str, **context: object) -> tuple[str, str]:
    """Render templates/mail/<template>.txt (its first line is "Subject: ...") into a subject
    and a body."""
    text = render_template(f"mail/{template}.txt", **context)
    first, _, body = text.lstrip().partition("\n")
    if not first.startswith("Subject: "):
        raise ValueError(f"mail/{template}.txt must start with a Subject: line")
    return first.removeprefix("Subject: "), body.strip() + "\n"


def enqueue(kind: str, to: str, template: str, *, request_id: int | None = None,
            **context: object) -> OutboxMessage:
    """Render templates/mail/<template>.txt into a pending message, in the current
    transaction."""
    subject, body = render(template, **context)
    message = OutboxMessage(kind=kind, to_address=to, subject=subject, body=body,
                            request_id=request_id)
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


def connect() -> smtplib.SMTP:
    """An SMTP connection by the MAIL_* settings, signed in where they say so."""
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


def postpone(message: OutboxMessage, reason: str) -> None:
    """Try the message again later, after a longer wait each time, up to OUTBOX_MAX_ATTEMPTS."""
    message.state = "pending"
    message.attempts += 1
    message.last_error = reason[:200]
    if message.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        message.state = "failed"
    else:
        message.next_attempt_at = utcnow() + min(timedelta(minutes=2**message.attempts),
                                                 MAX_BACKOFF)


def _bounce(message: OutboxMessage, reason: str) -> None:
    message.state, message.attempts, message.last_error = "bounced", message.attempts + 1, \
        reason[:200]


def send(smtp: smtplib.SMTP, message: OutboxMessage) -> bool:
    """Hand one claimed message to the server; record it sent, postponed, or bounced when
    the server refuses its address for good (5xx). Return whether it was sent."""
    try:
        smtp.send_message(_email(message))
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            _bounce(message, f"SMTPRecipientsRefused {codes[0]}")
        else:
            postpone(message, "SMTPRecipientsRefused")
    except smtplib.SMTPResponseException as error:
        postpone(message, f"{type(error).__name__} {error.smtp_code}")
    else:
        message.state, message.sent_at = "sent", utcnow()
        return True
    return False


def claim(message_id: int) -> OutboxMessage | None:
    """Claim a due message for sending in one committed statement, so that two senders never
    send it twice (a dead sender's claim is taken over after OUTBOX_SENDING_LEASE_SECONDS);
    return it, or None when another sender has it or it is not due."""
    claimed = changed_rows(db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id,
               OutboxMessage.state.in_(("pending", "sending")),
               OutboxMessage.next_attempt_at <= utcnow())
        .values(state="sending", next_attempt_at=utcnow() + timedelta(
            seconds=current_app.config["OUTBOX_SENDING_LEASE_SECONDS"]))
    ))
    db.session.commit()
    return db.session.get(OutboxMessage, message_id) if claimed == 1 else None


def deliver_pending(limit: int = 200) -> tuple[int, int]:
    """Send the messages that are due; return how many were sent and how many postponed.
    Commits, like a command."""
    if not current_app.config["MAIL_SERVER"]:
        return 0, 0
    candidates = db.session.execute(
        select(OutboxMessage.id)
        # A mailing's messages go at its own rate (dsr.policy.notices), not in this burst.
        .where(OutboxMessage.state.in_(("pending", "sending")),
               OutboxMessage.mailing_id.is_(None),
               OutboxMessage.next_attempt_at <= utcnow())
        .order_by(OutboxMessage.id).limit(limit)
    ).scalars().all()
    due = [message for message_id in candidates if (message := claim(message_id))]
    if not due:
        return 0, 0
    sent, handled = 0, set()
    try:
        with connect() as smtp:
            for message in due:
                sent += send(smtp, message)
                handled.add(message.id)
    except (OSError, smtplib.SMTPException) as error:
        for message in due:
            if message.id not in handled:
                postpone(message, f"cannot reach the SMTP server ({type(error).__name__})")
        log.warning("SMTP delivery failed: %s", type(error).__name__)
    db.session.commit()
    return sent, len(due) - sent
