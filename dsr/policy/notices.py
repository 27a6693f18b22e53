"""Telling every customer of a published version (the policy's promise to e-mail them).

list_customers() streams the customers of every identifying source that can list them into
the outbox, one message per address (a unique index drops the second), in batches: memory
stays flat however many there are, and a listing run again after a crash adds nobody twice.
send() then sends the mailing's messages at POLICY_NOTICE_RATE a minute, each claimed before
it is sent and marked sent right after, so a sender that dies is followed by one that sends
only what was not sent; it works for a slice of time and hands on to a job of its own.
"""

import contextlib
import logging
import re
import time
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from itertools import islice
from smtplib import SMTP, SMTPException
from typing import Any
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import and_, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from dsr import audit, jobs, notify
from dsr.actors import SYSTEM, Actor
from dsr.adapters import CustomerListing, SourceError
from dsr.adapters.registry import Source, configured
from dsr.database import changed_rows, utcnow
from dsr.extensions import db
from dsr.models import OutboxMessage, PolicyMailing, PolicyVersion

log = logging.getLogger(__name__)
SEND = "dsr.policy.notices.send"
LIST = "dsr.policy.notices.list_customers"
KIND = "policy"
BATCH = 500
# A job sends for at most this long (and a third of the job lease), then hands on.
SLICE_SECONDS = 60
_WAITING = ("pending", "sending")
_LISTED = and_(text("mailing_id IS NOT NULL"), text("to_address <> ''"))
# An ASCII dot-atom at a domain of letters, digits and inner hyphens (not punycode, which
# validate_email writes in Unicode): valid and normalised as it stands.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_PLAIN_ADDRESS = re.compile(
    rf"[a-z0-9!#$%&'*+/=?^_`{{|}}~-]{{1,64}}(?:\.[a-z0-9!#$%&'*+/=?^_`{{|}}~-]+)*"
    rf"@(?:{_LABEL}\.)+[a-z]{{2,63}}")


def listing_sources() -> list[Source]:
    """The identifying sources that can list their customers."""
    return [source for source in configured().values()
            if source.identifies and isinstance(source.adapter, CustomerListing)]


def _local_day(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


def _address(email: str) -> str | None:
    """The address as written to, lower-cased so that one person is told once; None for
    what is no address."""
    address = email.strip().lower()
    if len(address) <= 254 and "xn--" not in address and _PLAIN_ADDRESS.fullmatch(address):
        return address  # what most are: validate_email would only lower-case it
    try:
        return validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _insert_new(rows: list[dict[str, Any]]) -> None:
    """Write messages, leaving out any address the mailing already has."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(OutboxMessage).on_conflict_do_nothing(
        index_elements=["mailing_id", "to_address"], index_where=_LISTED)
    db.session.execute(statement, rows)


def list_customers(mailing_id: int) -> None:
    """Write one notice per customer address of every listing source, then start sending
    (a job). Commits after each batch; safe to run again."""
    mailing = db.session.get(PolicyMailing, mailing_id)
    if mailing is None or mailing.state != "listing":
        return
    version = db.session.get(PolicyVersion, mailing.version_id)
    assert version is not None and version.published_at is not None
    published_on = _local_day(version.published_at)
    corrected = [v for v in (db.session.get(PolicyVersion, int(n)) for n in
                 mailing.corrects.split(",") if n) if v is not None]
    told_of = min((_local_day(v.published_at) for v in corrected if v.published_at),
                  default=None)
    # Two texts at most: with the correction, for customers who were told of what it
    # withdraws, and without it.
    texts = {told: notify.render("policy", version=version, corrected=corrected if told
                                 else [], link=notify.public_url("portal.policy_version",
                                                                 number=version.number),
                                 history=notify.public_url("portal.policy"))
             for told in (True, False)}
    skipped, failed = 0, []
    for source in listing_sources():
        assert isinstance(source.adapter, CustomerListing)
        try:
            for chunk in _batches(source.adapter.customers(), BATCH):
                rows = []
                for customer in chunk:
                    address = _address(customer.email)
                    if address is None:
                        continue
                    if customer.since is not None and customer.since > published_on:
                        skipped += 1  # their account is newer than this version
                        continue
                    told = told_of is not None and (customer.since is None
                                                    or customer.since <= told_of)
                    subject, body = texts[told]
                    rows.append({"mailing_id": mailing_id, "kind": KIND, "to_address": address,
                                 "subject": subject, "body": body, "state": "pending",
                                 "attempts": 0, "next_attempt_at": utcnow(),
                                 "created_at": utcnow()})
                if rows:
                    _insert_new(rows)
                db.session.commit()
        except SourceError as error:  # the type only: a message may quote a customer
            db.session.rollback()
            log.warning("%s could not list its customers: %s", source.name,
                        type(error).__name__)
            failed.append(source.name)
    mailing = db.session.get(PolicyMailing, mailing_id)
    assert mailing is not None
    mailing.listed = _count(mailing_id)
    mailing.skipped_newer, mailing.failed_sources = skipped, ",".join(failed)
    mailing.state, mailing.listed_at = "sending", utcnow()
    audit.record("policy.listed", actor=SYSTEM, code=f"v{version.number}",
                 count=mailing.listed, sources=failed)
    jobs.declare(SEND, mailing_id)
    db.session.commit()


def _count(mailing_id: int, *states: str) -> int:
    query = select(func.count(OutboxMessage.id)).where(OutboxMessage.mailing_id == mailing_id)
    if states:
        query = query.where(OutboxMessage.state.in_(states))
    return db.session.execute(query).scalar_one()


def progress(mailing: PolicyMailing) -> dict[str, Any]:
    """How the mailing stands: listed, sent, waiting, failed and bounced, by count."""
    counts = dict(db.session.execute(
        select(OutboxMessage.state, func.count(OutboxMessage.id))
        .where(OutboxMessage.mailing_id == mailing.id)
        .group_by(OutboxMessage.state)).tuples().all())
    return {"state": mailing.state, "listed": sum(counts.values()),
            "sent": counts.get("sent", 0),
            "waiting": counts.get("pending", 0) + counts.get("sending", 0),
            "failed": counts.get("failed", 0), "bounced": counts.get("bounced", 0),
            "skipped_newer": mailing.skipped_newer,
            "failed_sources": [s for s in mailing.failed_sources.split(",") if s]}


def _slice() -> float:
    return min(SLICE_SECONDS, float(current_app.config["JOB_LEASE_SECONDS"]) / 3)


def _claim(mailing_id: int) -> bool:
    """Become the mailing's one sender until the job lease passes."""
    now = utcnow()
    claimed = changed_rows(db.session.execute(
        update(PolicyMailing)
        .where(PolicyMailing.id == mailing_id, PolicyMailing.state == "sending",
               (PolicyMailing.sender_until.is_(None)) | (PolicyMailing.sender_until < now))
        .values(sender_until=now + timedelta(
            seconds=current_app.config["JOB_LEASE_SECONDS"]))))
    db.session.commit()
    return claimed == 1


def _next_due(mailing_id: int) -> int | None:
    return db.session.execute(
        select(OutboxMessage.id)
        .where(OutboxMessage.mailing_id == mailing_id, OutboxMessage.state.in_(_WAITING),
               OutboxMessage.next_attempt_at <= utcnow())
        .order_by(OutboxMessage.id).limit(1)).scalar_one_or_none()


def _send_slice(mailing_id: int) -> None:
    """Send the mailing's due messages, one every 60/POLICY_NOTICE_RATE seconds, for a
    slice of time."""
    interval = 60 / float(current_app.config["POLICY_NOTICE_RATE"])
    started = time.monotonic()
    smtp: SMTP | None = None
    sent = 0
    try:
        while time.monotonic() - started < _slice():
            message_id = _next_due(mailing_id)
            if message_id is None:
                return
            message = notify.claim(message_id)
            if message is None:
                continue
            try:
                smtp = smtp or notify.connect()
                notify.send(smtp, message)
            except (OSError, SMTPException) as error:
                notify.postpone(message, f"cannot reach the SMTP server "
                                         f"({type(error).__name__})")
                db.session.commit()
                log.warning("SMTP delivery failed: %s", type(error).__name__)
                return  # the next slice comes once the message is due again
            db.session.commit()
            sent += 1
            time.sleep(max(0.0, started + sent * interval - time.monotonic()))
    finally:
        if smtp is not None:
            with contextlib.suppress(OSError, SMTPException):
                smtp.quit()


def send(mailing_id: int) -> None:
    """Send for a slice of time, then hand on: to the next slice, to a later one when what
    is left waits for a retry, or finish the mailing. Commits."""
    if not current_app.config["MAIL_SERVER"] or not _claim(mailing_id):
        return  # nothing leaves without a server; or another job is sending it now
    try:
        _send_slice(mailing_id)
    finally:
        db.session.rollback()
        mailing = db.session.get(PolicyMailing, mailing_id)
        assert mailing is not None
        mailing.sender_until = None
        _hand_on(mailing)
        db.session.commit()


def _hand_on(mailing: PolicyMailing) -> None:
    due = db.session.execute(
        select(func.min(OutboxMessage.next_attempt_at))
        .where(OutboxMessage.mailing_id == mailing.id,
               OutboxMessage.state.in_(_WAITING))).scalar_one()
    if due is not None:
        jobs.declare(SEND, mailing.id, delay=max(0.0, (due - utcnow()).total_seconds()))
        return
    mailing.state, mailing.finished_at = "done", utcnow()
    version = db.session.get(PolicyVersion, mailing.version_id)
    assert version is not None
    audit.record("policy.notified", actor=SYSTEM, code=f"v{version.number}",
                 count=_count(mailing.id, "sent"), failed=_count(mailing.id, "failed"),
                 bounced=_count(mailing.id, "bounced"))


def retry_failed(mailing: PolicyMailing, *, actor: Actor) -> int:
    """Send the failed messages again, in the caller's transaction; return how many."""
    retried = changed_rows(db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.mailing_id == mailing.id, OutboxMessage.state == "failed")
        .values(state="pending", attempts=0, last_error=None, next_attempt_at=utcnow())))
    if retried:
        mailing.state, mailing.finished_at = "sending", None
        jobs.declare(SEND, mailing.id)
    version = db.session.get(PolicyVersion, mailing.version_id)
    assert version is not None
    audit.record("policy.retried", actor=actor, code=f"v{version.number}", count=retried)
    return retried


def list_again(mailing: PolicyMailing, *, actor: Actor) -> None:
    """List the customers again (after a source could not list them): only those not yet
    listed are added. In the caller's transaction."""
    version = db.session.get(PolicyVersion, mailing.version_id)
    assert version is not None
    mailing.state = "listing"
    audit.record("policy.listing_again", actor=actor, code=f"v{version.number}")
    jobs.declare(LIST, mailing.id)
