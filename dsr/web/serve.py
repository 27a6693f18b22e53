"""`flask serve`: the embedded system in one command, the web app and a job consumer beside it.

The consumer is forked from the web process once the app is built, so the two share what
start-up loaded (most of each process's memory) until one of them changes it: the pair costs
little more than one process. gunicorn's --preload does the same for its workers; production
runs its consumers apart (`flask jobs worker`), on machines of their own if it likes.
"""

import contextlib
import gc
import os
import signal
import sys
from types import FrameType

import click
from flask import current_app
from werkzeug.serving import run_simple

from dsr.extensions import db
from dsr.jobs.commands import consume


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, help="Port to listen on.")
@click.option("--workers", default=2, show_default=True,
              help="Jobs the consumer runs at once (threads).")
def serve(host: str, port: int, workers: int) -> None:
    """Serve the app on HOST:PORT and consume the job queue in a process forked from it; both
    stop together (Ctrl-C or SIGTERM)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # Nothing open may cross the fork: each process opens its own database connections.
    db.engine.dispose()
    # Start-up's objects are never collected, so the collector does not write to (and copy)
    # the pages both processes share.
    gc.freeze()
    consumer = os.fork()
    if consumer == 0:
        try:
            consume(workers, periodic=True)
        finally:
            os._exit(0)

    def stop(number: int, frame: FrameType | None) -> None:
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        run_simple(host, port, app, threaded=True)
    finally:
        with contextlib.suppress(ProcessLookupError):  # it stopped on Ctrl-C already
            os.kill(consumer, signal.SIGTERM)
        os.waitpid(consumer, 0)
