"""Writing approved changes back: each source is written through its adapter's `correct` and
then read again, and a target counts as corrected only when the read-back value is the new one.

Sources are written at once, each within SOURCE_TIMEOUT, so that a slow source holds back only
its own targets. A failed target keeps its error for staff and is retried alone. A change to an
e-mail address waits until its cooling-off period is over; `flask corrections apply-due`
(meant for cron) writes the changes that have become due.
"""

import logging
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import replace

from flask import current_app
from sqlalchemy import or_, select, update

from dsr import audit, engine, notify
from dsr.actors import SYSTEM, Actor
from dsr.adapters import (
    CorrectableAdapter,
    RecordRef,
    SourceError,
    SourceNotWritable,
    SubjectIdentity,
)
from dsr.adapters.registry import configured
from dsr.categories import Category
from dsr.collection import subject_of, widened
from dsr.corrections import TO_APPLY, changes_of
from dsr.corrections.values import same_value
from dsr.database import changed_rows, utcnow
from dsr.extensions import db
from dsr.models import ChangeTarget, ProposedChange, Request

log = logging.getLogger(__name__)

# (target id, where, what, new value): what a source's writer needs, free of the session.
_Work = tuple[int, RecordRef, Category, str]
_Outcome = tuple[str, str | None]  # the target's new state, and the error if any


def due_targets(request: Request, only: Iterable[int] | None = None) -> list[ChangeTarget]:
    """Targets of the request waiting to be written whose change may be made now (after its
    cooling-off, if any)."""
    query = (
        select(ChangeTarget).join(ProposedChange)
        .where(ProposedChange.request_id == request.id, ProposedChange.state.in_(TO_APPLY),
               ChangeTarget.state == "pending",
               or_(ProposedChange.apply_after.is_(None), ProposedChange.apply_after <= utcnow()))
        .order_by(ChangeTarget.id)
    )
    if only is not None:
        query = query.where(ChangeTarget.id.in_(list(only)))
    return list(db.session.execute(query).scalars())


def _identity(request: Request, targets: list[ChangeTarget]) -> SubjectIdentity:
    """Whom to read back: the subject as collection knew them, and any new address written."""
    subject = widened(request, subject_of(request))
    new = {t.change.proposed_value.lower() for t in targets
           if t.change.category == Category.EMAIL.value}
    return replace(subject, emails=subject.emails | new)


def _write(adapter: CorrectableAdapter, work: list[_Work], subject: SubjectIdentity
           ) -> dict[int, _Outcome]:
    """Write each change to one source, then read the subject again to confirm them."""
    outcomes: dict[int, _Outcome] = {}
    written: list[_Work] = []
    for target_id, ref, category, value in work:
        try:
            adapter.correct(ref, {category: value})
        except SourceNotWritable as error:
            outcomes[target_id] = ("manual", str(error))
        except SourceError as error:
            outcomes[target_id] = ("failed", str(error))
        except Exception as error:  # an adapter's bug must not stop the other targets
            log.error("source %s failed to write: %s", adapter.name, type(error).__name__)
            outcomes[target_id] = ("failed", f"{adapter.name}: unexpected error in the adapter "
                                             f"({type(error).__name__}).")
        else:
            written.append((target_id, ref, category, value))
    if not written:
        return outcomes
    try:
        found = list(adapter.lookup(subject))
    except Exception as error:  # SourceError's message is safe to show; others' only by type
        shown = str(error) if isinstance(error, SourceError) else type(error).__name__
        for target_id, *_ in written:
            outcomes[target_id] = ("failed", f"Written, but reading it back failed: {shown}")
        return outcomes
    for target_id, ref, category, value in written:
        confirmed = any(f.record == ref and same_value(category, f.value, value) for f in found)
        outcomes[target_id] = ("confirmed", None) if confirmed else (
            "failed", f"{adapter.name}: the value read back is not the one written.")
    return outcomes


def _claim(targets: list[ChangeTarget]) -> list[ChangeTarget]:
    """Claim targets for this write-back, in one transaction, so that no other run writes them
    at the same time; and end their changes' stop links, since the change is now being made
    (a stop that committed first wins: its change is skipped). Commits."""
    claimed = []
    for change_id in sorted({t.change_id for t in targets}):
        started = changed_rows(db.session.execute(
            update(ProposedChange)
            .where(ProposedChange.id == change_id, ProposedChange.state.in_(TO_APPLY))
            .values(stop_nonce=None)))
        for target in (t for t in targets if t.change_id == change_id and started):
            if changed_rows(db.session.execute(
                    update(ChangeTarget)
                    .where(ChangeTarget.id == target.id, ChangeTarget.state == "pending")
                    .values(state="writing", attempts=ChangeTarget.attempts + 1))):
                claimed.append(target)
    db.session.commit()
    return claimed


def write_back(request: Request, actor: Actor, only: Iterable[int] | None = None) -> int:
    """Write the request's due targets (or only those named), record each outcome, and move
    the changes and the request on; commits. Return how many targets were tried."""
    targets = _claim(due_targets(request, only))
    if not targets:
        return 0
    sources = configured()
    by_source: dict[str, list[ChangeTarget]] = {}
    for target in targets:
        by_source.setdefault(target.source, []).append(target)
    subject = _identity(request, targets)

    timeout = float(current_app.config["SOURCE_TIMEOUT"])
    pool = ThreadPoolExecutor(max_workers=min(len(by_source), 8), thread_name_prefix="dsr-write")
    futures: dict[str, Future[dict[int, _Outcome]]] = {}
    outcomes: dict[int, _Outcome] = {}
    for name, group in by_source.items():
        source = sources.get(name)
        if source is None or not isinstance(source.adapter, CorrectableAdapter):
            outcomes |= {t.id: ("manual", f"{name}: dsr does not write to this source.")
                         for t in group}
            continue
        work = [(t.id, RecordRef(name, t.record_kind, t.record_key, t.record_field),
                 Category(t.change.category), t.change.proposed_value) for t in group]
        futures[name] = pool.submit(_write, source.adapter, work, subject)
    wait(futures.values(), timeout=timeout)
    pool.shutdown(wait=False, cancel_futures=True)
    for name, future in futures.items():
        if future.done():
            outcomes |= future.result()
        else:  # it may still be written: a retry writes the same value again and reads it
            outcomes |= {t.id: ("failed", f"{name}: no answer within {timeout:g} seconds.")
                         for t in by_source[name]}

    for target in targets:
        target.state, target.error = outcomes[target.id]
        audit.record(f"target.{target.state}", actor=actor, request_id=request.id,
                     change=target.change_id, source=target.source)
    db.session.commit()
    settle(request)
    notify.deliver_soon(current_app._get_current_object())  # type: ignore[attr-defined]
    return len(targets)


def settle(request: Request) -> None:
    """Move each approved change on from its targets, and the request once no approved change
    is left to make: applied (the effects tell the recipients and the subject) when something
    was made, closed when every approved change was stopped. Commits; when another run moved
    the request first, reads it again and settles what is left."""
    for attempt in (1, 2):
        try:
            _settle(request)
            db.session.commit()
            return
        except engine.ConcurrentTransition:
            db.session.rollback()
            if attempt == 2:
                raise


def _settle(request: Request) -> None:
    changes = changes_of(request)
    for change in changes:
        if change.state not in TO_APPLY:
            continue
        states = {t.state for t in change.targets}
        if states <= {"confirmed", "done"}:
            change.state, change.applied_at, change.stop_nonce = "applied", utcnow(), None
            audit.record("change.applied", actor=SYSTEM, request_id=request.id,
                         change=change.id)
        else:
            change.state = "failed" if "failed" in states else "approved"
    if request.state == "applying" and not any(c.state in TO_APPLY for c in changes):
        made = any(c.state == "applied" for c in changes)
        engine.fire(request, "confirm_applied" if made else "close", actor=SYSTEM)


def retry(request: Request, target: ChangeTarget, actor: Actor) -> None:
    """Put a failed target back in line to be written (the caller starts the job); commits."""
    target.state, target.error = "pending", None
    audit.record("target.retried", actor=actor, request_id=request.id,
                 change=target.change_id, source=target.source)
    db.session.commit()
    settle(request)


def mark_done(request: Request, target: ChangeTarget, note: str, actor: Actor,
              user_id: int) -> None:
    """Tick off a manual task with staff's note of what they did; commits."""
    target.state, target.done_by, target.done_note = "done", user_id, note.strip()
    target.change.stop_nonce = None  # the change is being made: the stop link ends
    audit.record("target.done", actor=actor, request_id=request.id, change=target.change_id,
                 source=target.source)
    db.session.commit()
    settle(request)


def run_job(request_id: int, actor: Actor, only: list[int] | None = None) -> None:
    """Write back for one applying request (a job: it owns its session)."""
    request = db.session.get(Request, request_id)
    if request is not None and request.state == "applying":
        write_back(request, actor, only)


def start(request: Request, actor: Actor, only: list[int] | None = None) -> None:
    """Write the request's due targets after the caller's commit (a job, see dsr.jobs)."""
    from dsr.jobs import launch

    launch(f"write-back-{request.id}", run_job, request.id, actor, only)


def apply_due(actor: Actor = SYSTEM) -> int:
    """Write every applying request's targets that have become due; return how many."""
    ids = db.session.execute(
        select(Request.id).where(Request.type == "correction", Request.state == "applying")
        .order_by(Request.id)
    ).scalars().all()
    tried = 0
    for request_id in ids:
        request = db.session.get(Request, request_id)
        if request is not None:
            tried += write_back(request, actor)
    return tried
