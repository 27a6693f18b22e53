"""`flask disclosures`: commands for cron."""

import click
from flask.cli import AppGroup

from dsr import notify
from dsr.actors import SYSTEM
from dsr.disclosures import notify_due

disclosures_cli = AppGroup("disclosures", help="The lawful-disclosure register.")


@disclosures_cli.command("notify-due")
def notify_due_command() -> None:
    """Tell the subjects of disclosures whose gag order has lapsed (run daily)."""
    told = notify_due(SYSTEM)
    notify.deliver_pending()
    for case in told:
        click.echo(f"Told the subject of {case.reference}: its gag order lapsed.")
    click.echo(f"{len(told)} subject notice(s) sent.")
