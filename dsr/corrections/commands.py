"""`flask corrections`: commands for cron."""

import click
from flask.cli import AppGroup

from dsr import notify
from dsr.corrections.writeback import apply_due

corrections_cli = AppGroup("corrections", help="Correction requests.")


@corrections_cli.command("apply-due")
def apply_due_command() -> None:
    """Write approved changes that have become due (e-mail changes after their cooling-off),
    read them back, and tell recipients and subjects of requests now applied."""
    tried = apply_due()
    notify.deliver_pending()
    click.echo(f"Wrote {tried} pending correction(s).")
