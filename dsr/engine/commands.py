"""`flask workflows`: list and draw the workflows."""

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from dsr import engine, notify
from dsr.actors import SYSTEM
from dsr.database import utcnow
from dsr.extensions import db
from dsr.models import Request
from workflows import Workflow, load

workflows_cli = AppGroup("workflows", help="Show the request workflows.")


def mermaid(workflow: Workflow) -> str:
    """Draw a workflow as a Mermaid state diagram."""
    lines = ["stateDiagram-v2", f"    [*] --> {workflow['initial']}"]
    for t in workflow["transitions"]:
        roles = ", ".join(t["roles"])
        for source in t["source"]:
            dest = t["dest"] or source
            lines.append(f"    {source} --> {dest}: {t['trigger']} ({roles})")
    lines += [f"    {state} --> [*]" for state in workflow["final"]]
    return "\n".join(lines)


@workflows_cli.command("draw")
@click.argument("name", type=click.Choice(sorted(load())))
def draw(name: str) -> None:
    """Print a workflow as Mermaid text (paste it into any Mermaid viewer or Markdown file)."""
    click.echo(mermaid(engine.workflow_for(name)))


requests_cli = AppGroup("requests", help="Jobs on requests, meant for cron.")


@requests_cli.command("expire-unverified")
def expire_unverified() -> None:
    """Expire requests whose confirmation link lapsed unused, and tell the address so."""
    hours = int(current_app.config["VERIFY_LINK_HOURS"])
    stale = db.session.execute(
        select(Request).where(Request.state == "submitted",
                              Request.received_at < utcnow() - timedelta(hours=hours))
    ).scalars().all()
    for case in stale:
        engine.fire(case, "expire", actor=SYSTEM)
        case.verify_nonce = None
        notify.enqueue("expired", case.requester_email, "expired", request_id=case.id,
                       name=case.requester_name, hours=hours,
                       link=notify.public_url("portal.new_request"))
    db.session.commit()
    notify.deliver_soon(current_app._get_current_object())  # type: ignore[attr-defined]
    click.echo(f"Expired {len(stale)} unconfirmed request(s).")
