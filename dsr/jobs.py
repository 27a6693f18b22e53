"""Work that follows a committed change: collection, write-back, mail. Each job owns its
database session; with BACKGROUND_JOBS on (the embedded default) it runs in a thread of the
web process, and with it off the caller waits for it (tests, and bench runs)."""

import logging
import threading
from collections.abc import Callable
from typing import Any

from flask import current_app

from dsr.actors import Actor
from dsr.extensions import db
from dsr.models import Request

log = logging.getLogger(__name__)


def launch(name: str, job: Callable[..., None], *args: Any) -> None:
    """Run `job(*args)` after the caller's commit, in the background unless it is switched off."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config["BACKGROUND_JOBS"]:
        job(*args)
        return

    def run() -> None:
        with app.app_context():
            try:
                job(*args)
            except Exception as error:  # the job must not die silently with its thread
                # The type only: an exception's message may quote personal data.
                log.error("job %s failed: %s", name, type(error).__name__)
            finally:
                db.session.remove()

    threading.Thread(target=run, name=f"dsr-{name}", daemon=True).start()


def after_transition(request: Request, trigger: str, actor: Actor) -> None:
    """What follows a committed transition: send the mail it queued, collect if it started a
    collection, write back if it started applying corrections."""
    from dsr import collection, notify
    from dsr.corrections import writeback

    notify.deliver_soon(current_app._get_current_object())  # type: ignore[attr-defined]
    if trigger == "start_collection":
        collection.start(request, actor)
    elif trigger == "apply":
        writeback.start(request, actor)
