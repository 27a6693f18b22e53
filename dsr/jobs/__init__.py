"""Work that follows a committed change, on a durable queue (Huey).

declare() records a job in dsr's own database, in the caller's transaction; once that
transaction commits the job is handed to the queue, and a rollback drops it with everything
else. A consumer (`flask jobs worker`) runs each job in an app context with its own session,
after claiming it with a conditional UPDATE, so a job handed over twice runs once. The sweep
hands over again what was lost between a commit and the queue, and what a consumer that died
was running. A job takes ids and codes, never personal data, and is safe to run twice.
"""

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from flask import Flask, current_app
from huey import Huey, crontab
from sqlalchemy import and_, delete, event, func, or_, select, update
from sqlalchemy.orm import Session

import workflows
from dsr.database import changed_rows, utcnow
from dsr.extensions import db
from dsr.jobs.queue import QueueConfigError, build
from dsr.models import Job
from dsr.names import resolve

log = logging.getLogger(__name__)

JobArg = int | str | list[int] | list[str] | None


class Busy(Exception):
    """What the job would work on is claimed by another run that may still be alive: try the
    job again once that claim's lease has passed (not counted as an attempt)."""


_PENDING = "dsr.jobs.pending"
_DELAYED = "dsr.jobs.delayed"
MAX_BACKOFF = timedelta(hours=1)


def declare(name: str, *args: JobArg, delay: float = 0) -> int:
    """Record the job `name(*args)` in the caller's transaction (once, however often it is
    declared there); it is handed to the queue after the commit, to run `delay` seconds
    later. Return its id."""
    pending: dict[str, int] = db.session.info.setdefault(_PENDING, {})
    key = f"{name}{args!r}"
    if key not in pending:
        resolve(name)  # a job that cannot run is refused now, not in the consumer
        job = Job(name=name, args=list(args), state="queued")
        if delay > 0:  # the sweep, too, waits for it to come due
            job.handed_at = utcnow() + timedelta(seconds=delay)
            db.session.info.setdefault(_DELAYED, {})[key] = delay
        db.session.add(job)
        db.session.flush()
        pending[key] = job.id
    return pending[key]


def queue() -> Huey:
    """The app's queue."""
    found: Huey = current_app.extensions["dsr.jobs"]
    return found


def hand_over(job_ids: Iterable[int]) -> None:
    """Give jobs to the queue; if it cannot take them now, the sweep gives them again."""
    task = current_app.extensions["dsr.jobs.run"]
    for job_id in job_ids:
        try:
            queue().enqueue(task.s(job_id))
        except Exception as error:  # the intent is stored: a later sweep hands it over
            log.warning("jobs from %s on not handed to the queue (%s); the sweep will retry",
                        job_id, type(error).__name__)
            return  # the queue is away: the person waiting should not wait for each job


def _after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    delayed: dict[str, float] = session.info.pop(_DELAYED, None) or {}
    if not pending:
        return
    hand_over(job_id for key, job_id in pending.items() if key not in delayed)
    for key, delay in delayed.items():
        try:
            current_app.extensions["dsr.jobs.run"].schedule(args=(pending[key],), delay=delay)
        except Exception as error:  # the sweep hands it over once it is due
            log.warning("job %s not scheduled (%s); the sweep will hand it over",
                        pending[key], type(error).__name__)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_DELAYED, None)


def execute(job_id: int) -> bool:
    """Claim the job and run it; return whether it ran. Commits."""
    now = utcnow()
    lease = timedelta(seconds=current_app.config["JOB_LEASE_SECONDS"])
    claimed = changed_rows(db.session.execute(
        update(Job)
        .where(Job.id == job_id,
               or_(Job.state == "queued",
                   and_(Job.state == "running", Job.started_at < now - lease)))
        .values(state="running", started_at=now, attempts=Job.attempts + 1)))
    db.session.commit()
    if not claimed:
        return False
    job = db.session.get(Job, job_id)
    assert job is not None  # just claimed
    name, args = job.name, list(job.args)
    try:
        resolve(name)(*args)
    except Busy:
        db.session.rollback()
        job = db.session.get(Job, job_id)
        assert job is not None
        # Not an attempt: handed over again once the other claim's lease has passed (the
        # sweep waits for that too).
        job.state, job.attempts, job.handed_at = "queued", job.attempts - 1, utcnow() + lease
        db.session.commit()
        current_app.extensions["dsr.jobs.run"].schedule(args=(job_id,), delay=lease.total_seconds())
        return False
    except Exception as error:  # recorded and retried; the type only, never the message
        db.session.rollback()
        log.error("job %s (%s) failed: %s", job_id, name, type(error).__name__)
        job = db.session.get(Job, job_id)
        assert job is not None
        job.error = type(error).__name__
        if job.attempts < current_app.config["JOB_MAX_ATTEMPTS"]:
            # The sweep hands it over again after a backoff, longer each time.
            job.state = "queued"
            job.handed_at = utcnow() + min(timedelta(minutes=2**job.attempts), MAX_BACKOFF)
        else:
            job.state = "failed"
    else:
        db.session.execute(update(Job).where(Job.id == job_id)
                           .values(state="done", error=None, finished_at=utcnow()))
        db.session.commit()
        return True
    job.finished_at = utcnow()
    db.session.commit()
    return True


def stale_before() -> datetime:
    """Claims older than this belong to a consumer that died (JOB_LEASE_SECONDS)."""
    return utcnow() - timedelta(seconds=current_app.config["JOB_LEASE_SECONDS"])


def sweep() -> int:
    """Hand over again the jobs the queue lost (queued and not started a grace after they
    were handed over, or were due again) and those whose consumer died (running past their
    lease); forget jobs done JOB_KEEP_DAYS ago. Return how many were handed over. Commits."""
    now = utcnow()
    db.session.execute(delete(Job).where(
        Job.state == "done",
        Job.finished_at < now - timedelta(days=current_app.config["JOB_KEEP_DAYS"])))
    grace = timedelta(seconds=current_app.config["JOB_HANDOVER_GRACE_SECONDS"])
    lease = timedelta(seconds=current_app.config["JOB_LEASE_SECONDS"])
    lost = list(db.session.execute(
        select(Job.id).where(or_(
            and_(Job.state == "queued",
                 func.coalesce(Job.handed_at, Job.created_at) < now - grace),
            and_(Job.state == "running", Job.started_at < now - lease)))
        .order_by(Job.id).limit(1000)).scalars())
    if lost:
        db.session.execute(update(Job).where(Job.id.in_(lost)).values(handed_at=now))
    db.session.commit()
    hand_over(lost)
    return len(lost)


def unfinished() -> int:
    """How many jobs are running or due to run (not those waiting for a backoff or for
    another claim's lease to pass)."""
    return db.session.execute(select(func.count(Job.id)).where(or_(
        Job.state == "running",
        and_(Job.state == "queued", or_(Job.handed_at.is_(None), Job.handed_at <= utcnow())))
    )).scalar_one()


def periodic_jobs(app: Flask) -> dict[str, str]:
    """Every periodic job by dotted name with its crontab: PERIODIC_JOBS, and what each
    workflow declares."""
    found = dict(app.config["PERIODIC_JOBS"])
    for workflow in workflows.load().values():
        found.update({p["job"]: p["crontab"] for p in workflow.get("periodic", [])})
    return found


def _in_context(app: Flask, name: str, run: Callable[[], object]) -> None:
    """Run `run` in an app context with its own session; log a failure by type only (an
    exception's message may quote personal data)."""
    with app.app_context():
        try:
            run()
        except Exception as error:
            log.error("%s failed: %s", name, type(error).__name__)
        finally:
            db.session.remove()


def init_app(app: Flask) -> None:
    """Build the app's queue from JOBS_URL; register the task that runs declared jobs, and
    every periodic job."""
    if float(app.config["JOB_LEASE_SECONDS"]) <= float(app.config["SOURCE_TIMEOUT"]):
        raise QueueConfigError("JOB_LEASE_SECONDS must be longer than SOURCE_TIMEOUT: a claim "
                               "older than the lease is taken to be a dead consumer's.")
    huey = build(app.config["JOBS_URL"], app.instance_path)
    app.extensions["dsr.jobs"] = huey

    @huey.task(name="dsr.run_job")
    def run_job(job_id: int) -> None:
        _in_context(app, f"job {job_id}", lambda: execute(job_id))

    app.extensions["dsr.jobs.run"] = run_job
    for name, schedule in periodic_jobs(app).items():
        minute, hour, day, month, weekday = schedule.split()

        def periodic(name: str = name) -> None:
            _in_context(app, name, resolve(name))

        huey.periodic_task(crontab(minute, hour, day, month, weekday),
                           name=f"periodic:{name}")(periodic)


event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_rollback", _after_rollback)
