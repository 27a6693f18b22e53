"""`flask requests`: jobs on subjects' requests, for manual use (they also run periodically)."""

import click
from flask.cli import AppGroup

from dsr.subjects import expiry

requests_cli = AppGroup("requests", help="Jobs on requests (they also run periodically).")


@requests_cli.command("expire-unverified")
def expire_unverified() -> None:
    """Expire requests whose confirmation link lapsed unused, and tell the address so."""
    click.echo(f"Expired {expiry.expire_unverified()} unconfirmed request(s).")
