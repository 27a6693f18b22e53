"""`flask workflows`: list and draw the workflows."""

import click
from flask.cli import AppGroup

from dsr import engine
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
