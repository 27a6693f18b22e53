"""`flask audit`: check the trail's hash chain."""

import click
from flask.cli import AppGroup

from dsr import audit
from dsr.audit import witness

audit_cli = AppGroup("audit", help="Inspect the audit trail.")


@audit_cli.command("verify")
@click.option("--expect", metavar="HASH",
              help="A head printed by an earlier run: fail unless the chain still holds it.")
def verify(expect: str | None) -> None:
    """Recompute the hash chain under the audit keys and hold it against the witness; exit 1
    naming the first broken event if it was tampered with."""
    report = audit.verify(expect)
    if not report.intact:
        click.echo(f"BROKEN at event {report.broken_seq}: {report.problem}. {report.vouched}"
                   .rstrip(), err=True)
        raise SystemExit(1)
    click.echo(f"OK: {report.count} event(s), chain intact. {report.vouched}".rstrip())
    if witness.path() is None:
        click.echo("No witness is kept (AUDIT_WITNESS_FILE): a rewrite by someone who holds "
                   "the database and the key would not be noticed.")
    # Keep this value outside the database and pass it as --expect next time: a chain that no
    # longer holds it was cut at the end or rewritten as a whole.
    click.echo(f"head {report.head}")
