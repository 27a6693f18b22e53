"""Writing approved changes back: each source is written through its adapter's `correct` and
then read again, and a target counts as corrected only when the read-back value is the new one.

Each target is one job on the queue (dsr.corrections.jobs.write_target), written within
SOURCE_TIMEOUT, so that a slow source holds back only its own targets. A write claims its target
with a conditional UPDATE, so it is never written by two jobs at once; a target whose writer
died is read back before it is written again. A failed target keeps its error for staff and is
retried alone. A change to an e-mail address waits until its cooling-off period is over; the
periodic job dsr.corrections.jobs.apply_due (and `flask corrections apply-due`) writes the
changes that have come due.
"""

import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import replace

from flask import current_app
from sqlalchemy import and_, or_, select, update

from dsr import audit, engine, jobs
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
WRITE = "dsr.corrections.jobs.write_target"

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


def _write(adapter: CorrectableAdapter, work: list[_Work], subject: SubjectIdentity,
           read_first: bool = False) -> dict[int, _Outcome]:
    """Write each change to one source, then read the subject again to confirm them. With
    `read_first`, a change the source already holds is confirmed without writing it."""
    outcomes: dict[int, _Outcome] = {}
    written: list[_Work] = []
    if read_first:
        try:
            held = list(adapter.lookup(subject))
        except Exception:  # then written as usual, and read back after
            held = []
        for target_id, ref, category, value in work:
            if any(f.record == ref and same_value(category, f.value, value) for f in held):
                outcomes[target_id] = ("confirmed", None)
        work = [w for w in work if w[0] not in outcomes]
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


def _claim(target_id: int) -> tuple[ChangeTarget, bool] | None:
    """Claim a target for this write, so that no other run writes it at the same time: one
    waiting to be written, or one whose writer died (still "writing" past JOB_LEASE_SECONDS).
    The change's stop link ends, since the change is now being made (a stop that committed
    first wins: its change is not made). Commits. Return the target and whether an earlier
    write may have reached the source; a target another job is writing now makes this one
    wait (jobs.Busy)."""
    target = db.session.get(ChangeTarget, target_id)
    if target is None:
        return None
    stale = jobs.stale_before()
    interrupted = target.state == "writing"
    started = changed_rows(db.session.execute(
        update(ProposedChange)
        .where(ProposedChange.id == target.change_id, ProposedChange.state.in_(TO_APPLY),
               or_(ProposedChange.apply_after.is_(None), ProposedChange.apply_after <= utcnow()))
        .values(stop_nonce=None)))
    claimed = started and changed_rows(db.session.execute(
        update(ChangeTarget)
        .where(ChangeTarget.id == target.id,
               or_(ChangeTarget.state == "pending",
                   and_(ChangeTarget.state == "writing", ChangeTarget.updated_at < stale)))
        .values(state="writing", attempts=ChangeTarget.attempts + 1)))
    db.session.commit()
    if not claimed and interrupted:
        raise jobs.Busy
    return (target, interrupted) if claimed else None


def start(request: Request, actor: Actor, only: Iterable[int] | None = None) -> int:
    """Queue the writes of the request's due targets (or only those named), in the caller's
    transaction: sources at once, each source's targets one after the other, in order (the
    next is queued when one is done), as a source's own records are best written. Return how
    many targets are due."""
    targets = due_targets(request, only)
    writing = set(db.session.execute(
        select(ChangeTarget.source).join(ProposedChange)
        .where(ProposedChange.request_id == request.id, ChangeTarget.state == "writing")
    ).scalars())
    first: dict[str, ChangeTarget] = {}
    for target in targets:
        if target.source not in writing:  # a source being written queues its next itself
            first.setdefault(target.source, target)
    for target in first.values():
        jobs.declare(WRITE, target.id, actor.ref)
    return len(targets)


def write_target(target_id: int, actor: Actor, queue_next: bool = True) -> bool:
    """Write one claimed target and read it back; record the outcome, queue the source's next
    target (if `queue_next`), settle its request. A target whose earlier writer died is read
    first and written only if the new value is not there yet, so that it is never written
    twice. Commits; return whether it was tried. A target already written is not written
    again, but its request is settled (a job run again after its consumer died between the
    two)."""
    claim = _claim(target_id)
    if claim is None:
        found = db.session.get(ChangeTarget, target_id)
        request = db.session.get(Request, found.change.request_id) if found else None
        if request is not None:
            settle(request)
        return False
    target, interrupted = claim
    request = db.session.get(Request, target.change.request_id)
    assert request is not None
    name = target.source
    source = configured().get(name)
    if source is None or not isinstance(source.adapter, CorrectableAdapter):
        outcome: _Outcome = ("manual", f"{name}: dsr does not write to this source.")
    else:
        work = [(target.id, RecordRef(name, target.record_kind, target.record_key,
                                      target.record_field),
                 Category(target.change.category), target.change.proposed_value)]
        subject = _identity(request, [target])
        timeout = float(current_app.config["SOURCE_TIMEOUT"])
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dsr-write")
        future = pool.submit(_write, source.adapter, work, subject, interrupted)
        wait([future], timeout=timeout)
        pool.shutdown(wait=False, cancel_futures=True)
        # Not done in time: it may still be written; a retry writes and reads it back again.
        outcome = future.result()[target.id] if future.done() else (
            "failed", f"{name}: no answer within {timeout:g} seconds.")
    target.state, target.error = outcome
    audit.record(f"target.{target.state}", actor=actor, request_id=request.id,
                 change=target.change_id, source=target.source)
    following = next((t for t in due_targets(request) if t.source == name), None)
    if following is not None and queue_next:
        jobs.declare(WRITE, following.id, actor.ref)
    db.session.commit()
    settle(request)
    return True


def write_back(request: Request, actor: Actor, only: Iterable[int] | None = None) -> int:
    """Write the request's due targets (or only those named) now, one after the other, and
    move the changes and the request on; commits. Return how many targets were tried."""
    tried = 0
    for target in due_targets(request, only):
        try:
            tried += write_target(target.id, actor, queue_next=False)
        except jobs.Busy:  # a job is writing it right now
            continue
    return tried


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
    """Queue the write of a failed target again (back in line), or of one whose writer died
    (still "writing": the job reads it back first, so that it is not written twice); commits."""
    audit.record("target.retried", actor=actor, request_id=request.id,
                 change=target.change_id, source=target.source)
    if target.state == "writing":
        jobs.declare(WRITE, target.id, actor.ref)
        db.session.commit()
        return
    target.state, target.error = "pending", None
    db.session.commit()
    settle(request)
    start(request, actor, [target.id])
    db.session.commit()


def mark_done(request: Request, target: ChangeTarget, note: str, actor: Actor,
              user_id: int) -> None:
    """Tick off a manual task with staff's note of what they did; commits."""
    target.state, target.done_by, target.done_note = "done", user_id, note.strip()
    target.change.stop_nonce = None  # the change is being made: the stop link ends
    audit.record("target.done", actor=actor, request_id=request.id, change=target.change_id,
                 source=target.source)
    db.session.commit()
    settle(request)


def apply_due(actor: Actor = SYSTEM) -> int:
    """Write every applying request's targets that have become due, now; return how many."""
    ids = db.session.execute(
        select(Request.id).where(Request.type == "correction", Request.state == "applying")
        .order_by(Request.id)
    ).scalars().all()
    tried = 0
    for request_id in ids:
        request = db.session.get(Request, request_id)
        if request is not None:
            tried += write_back(request, actor)
            settle(request)  # also one whose last write was recorded by a writer that died
    return tried
