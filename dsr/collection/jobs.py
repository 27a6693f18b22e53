"""Collection on the queue: one job per source. A job claims its run with a conditional
UPDATE, so a job handed over twice asks once, and a run whose consumer died (still running
past JOB_LEASE_SECONDS) is asked again. Once the identifying sources are done the others
are queued, widened by what those found; once every source answered, the follow-up trigger
the collection was started with is fired."""

from concurrent.futures import ThreadPoolExecutor, wait

from flask import current_app
from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import aliased

from dsr import collection, jobs
from dsr.actors import Actor
from dsr.adapters.registry import configured
from dsr.database import changed_rows, utcnow
from dsr.extensions import db
from dsr.followups import follow
from dsr.models import Request, SourceRun


def _claim(run_id: int) -> bool:
    """Take the run for this job: queued, or running past its lease (its consumer died).
    Commits. A run another job is asking now makes this one wait (jobs.Busy)."""
    claimed = changed_rows(db.session.execute(
        update(SourceRun)
        .where(SourceRun.id == run_id,
               or_(SourceRun.state == "queued",
                   and_(SourceRun.state == "running",
                        SourceRun.started_at < jobs.stale_before())))
        .values(state="running", started_at=utcnow(), attempts=SourceRun.attempts + 1)))
    db.session.commit()
    if not claimed and db.session.execute(select(SourceRun.state).where(
            SourceRun.id == run_id)).scalar_one() == "running":
        raise jobs.Busy
    return bool(claimed)


def ask(run_id: int, actor_ref: str) -> None:
    """Ask one source about the request's subject and record the outcome; then queue what
    follows. Safe to run twice: a run already answered is not asked again."""
    run = db.session.get(SourceRun, run_id)
    if run is None:
        return
    request = db.session.get(Request, run.request_id)
    assert request is not None
    actor = Actor.of(actor_ref)
    if collection.ended(request):  # withdrawn, rejected, ...: nothing more is collected
        db.session.execute(update(SourceRun).where(
            SourceRun.request_id == request.id, SourceRun.state.in_(("queued", "waiting")))
            .values(state="failed", error="The request ended before this source was asked."))
        db.session.commit()
        return
    if _claim(run_id):
        db.session.refresh(run)
        attempt = run.attempts
        source = configured().get(run.source)
        if source is None:
            run.state, run.error = "failed", f"{run.source}: no longer configured."
        else:
            subject, keep = collection.scoped(request, run.scope)
            if source.identifies is None:
                subject = collection.widened(request, subject)
            timeout = float(current_app.config["SOURCE_TIMEOUT"])
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dsr-collect")
            future = pool.submit(collection.lookup, source.adapter, subject)
            wait([future], timeout=timeout)  # record() tells an answer from a time-out
            pool.shutdown(wait=False, cancel_futures=True)
            db.session.refresh(run)
            db.session.refresh(request)
            if run.state != "running" or run.attempts != attempt or collection.ended(request):
                # Taken over meanwhile (this consumer was thought dead), or the request ended:
                # this answer is not kept.
                db.session.rollback()
                return
            collection.record(request, source, run, subject, future, timeout, actor, keep)
        db.session.commit()
    _advance(request, actor_ref)


def _advance(request: Request, actor_ref: str) -> None:
    """Queue the waiting runs once no identifying source is still to answer (exactly once:
    one conditional UPDATE); fire the follow-up once every source answered (dsr acts; a
    refusal, or another job that fired it first, leaves it). Commits."""
    identifying = [name for name, s in configured().items() if s.identifies]
    other = aliased(SourceRun)
    unanswered = exists(select(other.id).where(
        other.request_id == request.id, other.source.in_(identifying),
        other.state.in_(("queued", "running"))))
    moved = db.session.execute(
        update(SourceRun)
        .where(SourceRun.request_id == request.id, SourceRun.state == "waiting", ~unanswered)
        .values(state="queued", started_at=utcnow())
        .returning(SourceRun.id)).scalars().all()
    for run_id in moved:
        jobs.declare(collection.ASK, run_id, actor_ref)
    db.session.commit()
    runs = collection.runs_of(request).values()
    if not runs or any(r.state != "done" for r in runs):
        return
    if any(r.scope for r in runs):
        # A scoped collection widened by what it does not keep: that is no longer needed.
        collection.forget_identity(request)
        db.session.commit()
    follow_up = next((r.follow_up for r in runs if r.follow_up), None)
    if follow_up:
        # In this job, before it is done: if its consumer dies first, the job runs again.
        follow(request.id, follow_up)
