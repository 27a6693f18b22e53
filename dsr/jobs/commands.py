"""`flask jobs`: the consumer that runs declared and periodic jobs, and a look at the queue."""

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from dsr import jobs
from dsr.extensions import db
from dsr.models import Job

jobs_cli = AppGroup("jobs", help="The job queue.")


@jobs_cli.command("worker")
@click.option("--workers", default=2, show_default=True, help="Jobs run at once (threads).")
@click.option("--periodic/--no-periodic", default=True, show_default=True,
              help="Also enqueue the periodic jobs (each is safe to run twice, so several "
                   "consumers may).")
def worker(workers: int, periodic: bool) -> None:
    """Consume the queue until stopped: SIGTERM lets the running jobs finish first; SIGINT
    (Ctrl-C) stops at once, and another consumer takes over their claims after
    JOB_LEASE_SECONDS."""
    consume(workers, periodic)


def consume(workers: int, periodic: bool) -> None:
    """Run a consumer of the app's queue with `workers` threads until it is stopped."""
    consumer = jobs.queue().create_consumer(
        workers=workers, worker_type="thread", periodic=periodic,
        initial_delay=0.05, backoff=1.5, max_delay=float(current_app.config["JOBS_POLL_SECONDS"]),
        graceful_signal="TERM")
    click.echo(f"Consuming jobs with {workers} worker(s); periodic jobs "
               f"{'on' if periodic else 'off'}.")
    consumer.run()


@jobs_cli.command("sweep")
def sweep() -> None:
    """Hand over again the jobs that were lost or whose consumer died."""
    click.echo(f"Handed over {jobs.sweep()} job(s) again.")


@jobs_cli.command("status")
def status() -> None:
    """Count the jobs in each state."""
    counts: dict[str, int] = {state: count for state, count in db.session.execute(
        select(Job.state, func.count(Job.id)).group_by(Job.state)).tuples()}
    click.echo(", ".join(f"{state} {counts.get(state, 0)}"
                         for state in ("queued", "running", "done", "failed")))
