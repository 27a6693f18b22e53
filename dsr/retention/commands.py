"""`flask retention`: what the retention rules will purge, and when; and the purge itself."""

import click
from flask.cli import AppGroup

from dsr import retention
from dsr.actors import CLI
from dsr.retention import sources as source_ages

retention_cli = AppGroup("retention", help="What dsr keeps, for how long, and the purge.")


@retention_cli.command("report")
@click.option("--sources/--no-sources", default=True, show_default=True,
              help="Also ask each source what it holds past its stated retention.")
def report(sources: bool) -> None:
    """Per rule: how long it keeps, what it deletes and keeps, what is due now and next;
    per source: what it holds past the retention its register entry states."""
    for standing in retention.report():
        rule = standing.rule
        upcoming = (f"{standing.waiting} more, the next on {standing.next_due:%Y-%m-%d}"
                    if standing.next_due else "none waiting")
        click.echo(f"{rule.name} (kept {rule.days()} days): {standing.due} due now; "
                   f"{upcoming}.\n  deletes {rule.deletes}\n  keeps {rule.keeps}")
    if not sources:
        return
    click.echo("\nThe sources (dsr deletes nothing there; the counts are for you to act on):")
    for age in source_ages.count_all():
        click.echo(f"{age.source.title}: retention {age.source.register.retention!r}")
        if age.why or age.error:
            click.echo(f"  {age.why or 'could not be asked: ' + str(age.error)}")
        for row in age.counts if not age.error else []:
            click.echo(f"  {row.kind}: {source_ages.past_it(row)}")


@retention_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Say what would be purged; delete nothing.")
def purge(dry_run: bool) -> None:
    """Purge what is due now (a periodic job does it every day)."""
    counts = retention.purge(dry_run=dry_run, actor=CLI)
    verb = "Would purge" if dry_run else "Purged"
    for name, count in counts.items():
        click.echo(f"{verb} {count} record(s) under {name}.")
