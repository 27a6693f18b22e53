"""The job queue: what a transaction declares is handed over only once it commits, a job runs
once however often it is handed over, a failing one is tried again and then left failed with
its type only, and the sweep hands over again what a queue outage or a dead consumer lost."""

import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select, update

from dsr import create_app, jobs
from dsr.database import utcnow
from dsr.extensions import db
from dsr.jobs.queue import QueueConfigError, build
from dsr.models import Job
from tests.fixtures.databases import config_for, settled

RAN: list[str] = []


def note(word: str) -> None:
    """A job for these tests: remember that it ran."""
    RAN.append(word)


def fail(word: str) -> None:
    """A job for these tests that always fails, quoting what it was given."""
    raise RuntimeError(f"could not handle {word}")


@pytest.fixture(autouse=True)
def forget() -> None:
    RAN.clear()


def job_states() -> list[tuple[str, int]]:
    db.session.expire_all()
    return [(j.state, j.attempts) for j in db.session.execute(
        select(Job).order_by(Job.id)).scalars()]


def test_a_job_runs_after_the_commit_and_a_rollback_drops_it(app: Flask) -> None:
    jobs.declare(f"{__name__}.note", "kept")
    jobs.declare(f"{__name__}.note", "kept")  # declared twice in one transaction: once
    db.session.commit()
    assert RAN == ["kept"]
    jobs.declare(f"{__name__}.note", "dropped")
    db.session.rollback()
    db.session.commit()
    assert RAN == ["kept"]
    assert job_states() == [("done", 1)]


def test_a_job_handed_over_twice_runs_once(app: Flask) -> None:
    job_id = jobs.declare(f"{__name__}.note", "once")
    db.session.commit()
    jobs.hand_over([job_id])
    settled(app)
    assert RAN == ["once"]


@pytest.mark.failing_jobs
def test_a_failing_job_is_tried_again_then_failed_without_its_message(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["JOB_HANDOVER_GRACE_SECONDS"] = 0
    jobs.declare(f"{__name__}.fail", "secret@example.com")
    db.session.commit()
    assert job_states() == [("queued", 1)]
    for attempt in (2, 3):  # each backoff over
        db.session.execute(update(Job).values(created_at=utcnow() - timedelta(seconds=5),
                                              handed_at=None))
        db.session.commit()
        assert jobs.sweep() == 1
        deadline = time.monotonic() + 10
        while job_states()[0][1] < attempt or job_states()[0][0] == "running":
            assert time.monotonic() < deadline, "the sweep's hand-over never ran"
            time.sleep(0.01)
    assert job_states() == [("failed", 3)]
    assert db.session.execute(select(Job.error)).scalar_one() == "RuntimeError"
    assert "secret@example.com" not in caplog.text
    assert jobs.sweep() == 0, "a failed job is left for someone to look at"


@pytest.mark.unconsumed
def test_the_sweep_hands_over_what_the_queue_lost(app: Flask) -> None:
    jobs.declare(f"{__name__}.note", "lost")
    db.session.commit()
    jobs.queue().flush()  # the queue's storage lost it (or never got it)
    assert jobs.sweep() == 0, "not before the grace has passed"
    db.session.execute(update(Job).values(created_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    assert jobs.sweep() == 1
    assert jobs.queue().pending_count() == 1, "handed over again"


@pytest.mark.unconsumed
def test_a_job_whose_consumer_died_is_handed_over_after_its_lease(app: Flask) -> None:
    job_id = jobs.declare(f"{__name__}.note", "orphan")
    db.session.commit()
    jobs.queue().flush()
    started = utcnow() - timedelta(seconds=app.config["JOB_LEASE_SECONDS"] + 1)
    db.session.execute(update(Job).values(state="running", started_at=started, attempts=1))
    db.session.commit()
    assert jobs.sweep() == 1
    assert jobs.execute(job_id), "a stale claim is taken over"
    assert RAN == ["orphan"] and job_states() == [("done", 2)]


def test_jobs_status_and_sweep_commands(app: Flask, runner: FlaskCliRunner) -> None:
    jobs.declare(f"{__name__}.note", "x")
    db.session.commit()
    assert runner.invoke(args=["jobs", "status"]).output.strip() == \
        "queued 0, running 0, done 1, failed 0"
    assert "Handed over 0 job(s) again." in runner.invoke(args=["jobs", "sweep"]).output
    assert "Consume the queue" in runner.invoke(args=["jobs", "worker", "--help"]).output


def test_an_unknown_queue_storage_or_a_short_lease_stops_start_up(sqlite_url: str,
                                                                   tmp_path: Path) -> None:
    with pytest.raises(QueueConfigError, match="JOBS_URL must start with sqlite:///"):
        build("mysql://somewhere/db", str(tmp_path))
    with pytest.raises(QueueConfigError, match="longer than SOURCE_TIMEOUT"):
        create_app(config_for(sqlite_url) | {"JOB_LEASE_SECONDS": 30, "SOURCE_TIMEOUT": 60})
