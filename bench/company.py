"""The demo company for benchmarks: its databases built at a scale, its WHMCS, Matomo and
Kayako stand-ins served on 127.0.0.1, and a dsr app whose sources they are, its jobs run by a
real consumer (threads of this process) on the embedded SQLite queue."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import flask_migrate
from flask import Flask

from dsr import create_app, engine, jobs, report
from dsr.actors import SUBJECT, Actor
from dsr.demo import company, sources
from dsr.demo.standins import serve
from dsr.demo.standins.kayako import create_kayako
from dsr.demo.standins.matomo import create_matomo
from dsr.demo.standins.whmcs import create_whmcs
from dsr.extensions import db
from dsr.models import Request

STAFF = Actor("user:1", frozenset({"staff"}))


@contextmanager
def demo_company(instance: Path, scale: int = 1
                 ) -> Iterator[tuple[Flask, list[company.Customer]]]:
    """Yield an app (in its context, schema upgraded) over the demo company at `scale` (1:
    1,000 customers and 100,000 visits), with the stand-ins serving until the block ends."""
    folder = sources.company_folder(str(instance))
    people = company.build(folder, customers_count=1000 * scale, visits=100_000 * scale)
    running = [
        serve(create_whmcs(folder / "billing.sqlite", *sources.WHMCS_CREDENTIALS)),
        serve(create_matomo(folder / "analytics.sqlite", sources.MATOMO_TOKEN)),
        serve(create_kayako(folder / "helpdesk.sqlite", *sources.KAYAKO_KEYS)),
    ]
    config = sources.demo_sources(str(instance))
    for name, server in zip(("billing", "analytics", "helpdesk"), running, strict=True):
        config[name]["settings"]["url"] = server.url + (
            "/api/index.php" if name == "helpdesk" else "")
    app = create_app({"TESTING": True, "SECRET_KEY": "bench" * 8,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'dsr.sqlite'}",
                      "SOURCES": config, "DSR_REGISTER": sources.DSR_REGISTER,
                      "JOBS_URL": f"sqlite:///{instance / 'jobs.sqlite'}"})
    try:
        with app.app_context():
            flask_migrate.upgrade()
            with consuming(workers=4):
                yield app, people
    finally:
        for server in running:
            server.stop()


@contextmanager
def consuming(workers: int) -> Iterator[None]:
    """Run the app's jobs in a consumer of `workers` threads of this process, polling every
    few milliseconds, until the block ends."""
    consumer = jobs.queue().create_consumer(
        workers=workers, worker_type="thread", periodic=False, initial_delay=0.001,
        backoff=1.1, max_delay=0.005, check_worker_health=False)
    consumer._set_signal_handlers = lambda: None  # the benchmark's main thread keeps its own
    consumer.start()
    try:
        yield
    finally:
        consumer.stop(graceful=True)


def confirmed(email: str) -> Request:
    """A new access request from `email`, confirmed and committed."""
    case = engine.open_request("access", actor=SUBJECT, requester_email=email)
    engine.fire(case, "verify", actor=SUBJECT)
    db.session.commit()
    return case


def answered(email: str) -> tuple[float, dict[str, Any]]:
    """Seconds from "start collection" to the compiled answer of a new confirmed access
    request from `email`, and the answer."""
    case = confirmed(email)
    started = time.perf_counter()
    engine.fire(case, "start_collection", actor=STAFF)
    db.session.commit()
    reaches(case, "in_review")
    compiled = report.compile_report(case)
    return time.perf_counter() - started, compiled


def reaches(case: Request, state: str, seconds: float = 60) -> None:
    """Wait until the consumer has moved the request to `state`."""
    deadline = time.monotonic() + seconds
    while True:
        db.session.refresh(case)
        if case.state == state:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"request {case.id} is {case.state}, not {state}")
        time.sleep(0.001)
