"""`flask sources`: the health of every source, and what each finds for an address; `flask
register export`: the record of processing activities."""

import click
from flask import json
from flask.cli import AppGroup

from dsr import audit, processing
from dsr.actors import CLI
from dsr.adapters import Findings, SourceError, SubjectIdentity
from dsr.adapters.registry import configured
from dsr.categories import mask
from dsr.extensions import db
from dsr.settings import ConfigError

sources_cli = AppGroup("sources", help="Inspect the configured sources of personal data.")


@sources_cli.command("check")
def check() -> None:
    """Show whether each source answers, with warnings (such as a missing index)."""
    sources = configured()
    if not sources:
        click.echo("No sources are configured (SOURCES in instance/config.py).")
        return
    failing = 0
    for name, source in sources.items():
        health = source.adapter.check()
        failing += not health.ok
        click.echo(f"{'OK  ' if health.ok else 'FAIL'} {name} ({source.register.purposes[0]}): "
                   f"{health.detail}")
        for warning in health.warnings:
            click.echo(f"     warning: {warning}")
    if failing:
        raise SystemExit(1)


@sources_cli.command("lookup")
@click.argument("email")
@click.option("--customer-id", "customer_ids", multiple=True, help="A customer number.")
@click.option("--ip", "ips", multiple=True, help="An IP address tied to the account.")
@click.option("--reveal", is_flag=True, help="Show values in full instead of masked.")
def lookup(email: str, customer_ids: tuple[str, ...], ips: tuple[str, ...], reveal: bool) -> None:
    """Print what each source finds for an address, values masked unless --reveal."""
    subject = SubjectIdentity.of(email, customer_ids=customer_ids, ips=ips)
    names = sorted(configured())
    # Looking someone up is a view of personal data: it is audited, the address is not.
    audit.record("sources.lookup", actor=CLI, sources=names, flag=reveal)
    db.session.commit()
    for name in names:
        try:
            findings = configured()[name].adapter.lookup(subject)
            found = list(findings)
        except SourceError as error:
            click.echo(f"{name}: FAILED: {error}")
            continue
        click.echo(f"{name}: {len(found)} finding(s)")
        for finding in found:
            value = finding.value if reveal else mask(finding.value)
            click.echo(f"  {finding.category.value:<12} {finding.label}: {value}")
        if isinstance(findings, Findings):
            for warning in findings.warnings:
                click.echo(f"  warning: {warning}")


register_cli = AppGroup("register", help="The record of processing activities (Art. 30).")


@register_cli.command("export")
@click.option("--format", "form", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True)
def export(form: str) -> None:
    """Print the record of processing activities (GDPR Art. 30(1)): the controller and every
    processing, with every field the article asks for."""
    try:
        rows = processing.record()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    audit.record("register.exported", actor=CLI, code=form)
    db.session.commit()
    click.echo(processing.as_csv(rows) if form == "csv" else json.dumps(
        {"record_of_processing_activities": rows}, indent=2, ensure_ascii=False), nl=False)
