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
    """What follows a committed transition: apply a correction's approved changes once its
    decisions are sent (or close it if none was approved), send the mail queued, collect if a
    collection started, write back if applying started."""
    from dsr import collection, engine, notify
    from dsr.actors import SYSTEM
    from dsr.corrections import TO_APPLY, changes_of, writeback

    if trigger == "decide":  # the decisions are told: make the approved changes at once
        follow_up = "apply" if any(c.state in TO_APPLY for c in changes_of(request)) else "close"
        try:
            engine.fire(request, follow_up, actor=SYSTEM)
            db.session.commit()
            trigger = follow_up
        except engine.TransitionError as error:  # staff then see the action and its refusal
            db.session.rollback()
            log.warning("after deciding request %s, %s was refused: %s", request.id,
                        follow_up, type(error).__name__)
    notify.deliver_soon(current_app._get_current_object())  # type: ignore[attr-defined]
    if trigger == "start_collection":
        collection.start(request, actor)
    elif trigger == "apply":
        writeback.start(request, actor)
