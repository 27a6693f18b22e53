"""`flask outbox`: deliver queued e-mail, for cron or after an SMTP outage."""

import click
from flask.cli import AppGroup
from sqlalchemy import func, select, update

from dsr import notify
from dsr.database import utcnow
from dsr.extensions import db
from dsr.models import OutboxMessage

outbox_cli = AppGroup("outbox", help="The e-mail outbox.")


@outbox_cli.command("send")
@click.option("--retry-failed", is_flag=True, help="Try messages that gave up again.")
def send(retry_failed: bool) -> None:
    """Send every message that is due; exit 1 if some could not be sent yet."""
    from flask import current_app

    if not current_app.config["MAIL_SERVER"]:
        raise click.ClickException("MAIL_SERVER is not set: there is nowhere to send to.")
    if retry_failed:
        db.session.execute(update(OutboxMessage).where(OutboxMessage.state == "failed")
                           .values(state="pending", attempts=0, next_attempt_at=utcnow()))
        db.session.commit()
    sent, postponed = notify.deliver_pending()
    waiting = db.session.execute(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.state != "sent")).scalar_one()
    click.echo(f"Sent {sent}, postponed {postponed}; {waiting} not sent yet.")
    if postponed:
        raise SystemExit(1)
