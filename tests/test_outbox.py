"""E-mail through the outbox and a real SMTP server on 127.0.0.1 (aiosmtpd): sent right after
the commit that queued it, and kept, not lost, while the server is down."""

import time

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from dsr import jobs, notify
from dsr.extensions import db
from dsr.models import OutboxMessage
from tests.fixtures.mail import SmtpSink
from tests.fixtures.people import csrf_token


def queue(app: Flask) -> OutboxMessage:
    message = notify.enqueue("verification", "rosa@example.com", "verify", name="Rosa",
                             link="http://127.0.0.1:5000/x", hours=72, request_type="access")
    db.session.commit()
    return message


def test_mail_is_sent_right_after_the_commit_that_queued_it(mail_app: Flask, smtp: SmtpSink
                                                            ) -> None:
    client = mail_app.test_client()
    token = csrf_token(client, "/requests/new")
    client.post("/requests/new", data={"type": "access", "email": "rosa@example.com",
                                       "name": "Rosa Rivera", "csrf_token": token})
    [mail] = smtp.wait_for(1)
    assert mail["To"] == "rosa@example.com"
    assert mail["Subject"] == "Please confirm your request"
    assert "/requests/verify/" in mail.get_content()
    assert not mail.is_multipart(), "no attachments, ever"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        db.session.expire_all()
        if db.session.execute(select(OutboxMessage.state)).scalar_one() == "sent":
            break
        time.sleep(0.05)
    assert db.session.execute(select(OutboxMessage.state)).scalar_one() == "sent"


@pytest.mark.mail_by_hand  # the test itself tries to deliver while the server is down
def test_an_smtp_outage_loses_nothing(mail_app: Flask, smtp_port: int) -> None:
    message = queue(mail_app)
    assert notify.deliver_pending() == (0, 1)
    db.session.refresh(message)
    assert (message.state, message.attempts) == ("pending", 1)
    assert message.last_error == "cannot reach the SMTP server (ConnectionRefusedError)"
    assert "rosa" not in message.last_error

    from aiosmtpd.controller import Controller

    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        message.next_attempt_at = message.created_at  # its backoff has passed
        db.session.commit()
        result = mail_app.test_cli_runner().invoke(args=["outbox", "send"])
        assert result.exit_code == 0, result.output
        assert "Sent 1, postponed 0; 0 not sent yet." in result.output
        assert [m["To"] for m in sink.wait_for(1)] == ["rosa@example.com"]
    finally:
        controller.stop()


def test_outbox_send_without_a_server_says_what_is_missing(app: Flask,
                                                           runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 1
    assert "MAIL_SERVER is not set" in result.output


def test_queued_mail_is_audited_without_address_or_text(app: Flask) -> None:
    from dsr.models import AuditEvent

    queue(app)
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "mail.queued")).scalar_one()
    assert event.details == {"code": "verification"}


def test_two_senders_at_once_send_each_message_once(mail_app: Flask, smtp: SmtpSink) -> None:
    import threading

    for _ in range(5):
        queue(mail_app)
    barrier = threading.Barrier(2)

    def send() -> None:
        with mail_app.app_context():
            barrier.wait()
            notify.deliver_pending()
            db.session.remove()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    time.sleep(0.3)
    assert len(smtp.messages) == 5
    db.session.expire_all()
    assert db.session.execute(select(OutboxMessage.state)).scalars().all() == ["sent"] * 5


def test_mail_queued_while_the_server_is_down_is_delivered_once_when_it_is_back(
    mail_app: Flask, smtp_port: int
) -> None:
    client = mail_app.test_client()
    addresses = [f"down-{n}@example.com" for n in range(3)]
    for address in addresses:
        token = csrf_token(client, "/requests/new")
        client.post("/requests/new", data={"type": "access", "email": address,
                                           "name": "Kim Example", "csrf_token": token})
    db.session.expire_all()
    waiting = db.session.execute(select(OutboxMessage)).scalars().all()
    assert [(m.state, m.attempts) for m in waiting] == [("pending", 1)] * 3, \
        "the consumer tried each right after its commit, and kept it"

    from aiosmtpd.controller import Controller

    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        for message in waiting:
            message.next_attempt_at = message.created_at  # their backoff has passed
        db.session.commit()
        for _ in range(2):  # the periodic delivery, twice: the second finds nothing to send
            jobs.declare(notify.DELIVER)
            db.session.commit()
        delivered = sink.wait_for(3)
        assert len(delivered) == 3  # both deliveries ran before their commits returned
        assert sorted(m["To"] for m in delivered) == addresses, "each once"
        assert len({m["Message-ID"] for m in delivered}) == 3
    finally:
        controller.stop()
    db.session.expire_all()
    assert {m.state for m in db.session.execute(select(OutboxMessage)).scalars()} == {"sent"}
