"""The development mailbox: with no SMTP server (the demo), read here what dsr would send."""

from flask import Blueprint, render_template
from sqlalchemy import select

from dsr.extensions import db
from dsr.models import OutboxMessage

blueprint = Blueprint("mailbox", __name__, url_prefix="/dev/mailbox")


@blueprint.route("/")
def index() -> str:
    """List the queued e-mails, newest first, with their links clickable."""
    messages = db.session.execute(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(100)
    ).scalars().all()
    return render_template("mailbox/index.html", messages=messages)
