"""The development mailbox: with no SMTP server (the demo), read here what dsr would send."""

from ipaddress import ip_address

from flask import Blueprint, abort, render_template, request
from sqlalchemy import select

from dsr.extensions import db
from dsr.models import OutboxMessage

blueprint = Blueprint("mailbox", __name__, url_prefix="/dev/mailbox")


@blueprint.before_request
def only_on_the_loopback() -> None:
    """Answer only a browser on this machine: the mailbox holds every demo e-mail's links."""
    try:
        loopback = ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        abort(404)


@blueprint.route("/")
def index() -> str:
    """List the queued e-mails, newest first, with their links clickable."""
    messages = db.session.execute(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(100)
    ).scalars().all()
    return render_template("mailbox/index.html", messages=messages)
