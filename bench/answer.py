"""An answer's memory at two sizes: a subject with 10,000 and with 100,000 orders of their own,
collected, released, then read as staff preview it and as the subject downloads it (the page,
JSON, CSV and PDF), each read to its end a part at a time as a browser would.

    .venv/bin/python bench/answer.py [--sizes 10000 100000]

Each size runs in its own process (SQLite, the sql adapter over a shop database, the jobs run
by hand). For every view the bench prints the bytes sent and the peak of Python's memory while
it was sent (tracemalloc, reset before each). Exits 1 when a view of the larger answer peaks
more than a fixed allowance above the same view of the smaller one: an answer streams, it is
never loaded whole.
"""

import argparse
import contextvars
import json
import logging
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import flask_migrate
from flask.testing import FlaskClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from company import STAFF, confirmed
from heavy import HEAVY, MAPPING, REGISTER
from memory import build_shop

from dsr import create_app, engine, jobs
from dsr.demo.sources import DSR_REGISTER
from dsr.extensions import db
from dsr.models import Job
from tests.fixtures.people import link, mails, make_user, press, sign_in

# How much higher a view of ten times the findings may peak: the database driver's and the
# template engine's buffers, not a copy of the findings.
ALLOWANCE_MIB = 8
T = TypeVar("T")
VIEWS = ("preview", "report", "report.json", "report.csv", "report.pdf")


def run_jobs() -> None:
    """Run every queued job in this process until none is left (collection, follow-ups)."""
    while ids := db.session.execute(db.select(Job.id).where(Job.state == "queued")
                                    ).scalars().all():
        db.session.commit()
        for job_id in ids:
            jobs.execute(job_id)
            db.session.remove()


def apart(call: Callable[..., T], *args: Any) -> T:
    """`call(*args)` in a context of its own, as a server runs a request and reads its
    response: `g`, the signed-in user and the session are not this bench's."""
    return contextvars.Context().run(call, *args)


def peak_of(client: FlaskClient, path: str) -> tuple[int, float]:
    """Bytes sent for `path`, read a part at a time, and Python's peak MiB meanwhile."""
    def read() -> int:
        response = client.get(path, buffered=False)
        assert response.status_code == 200, (path, response.status_code)
        sent = sum(len(part) for part in response.iter_encoded())
        response.close()
        return sent

    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    sent = apart(read)
    return sent, (tracemalloc.get_traced_memory()[1] - before) / 2**20


def one_size(rows: int, folder: Path) -> dict[str, Any]:
    """Collect, release and read the answer of a subject with `rows` orders."""
    build_shop(folder / f"shop-{rows}.sqlite", rows)
    (folder / "shop.yaml").write_text(MAPPING, encoding="utf-8")
    app = create_app({
        "TESTING": True, "SECRET_KEY": "bench-" * 8, "PUBLIC_URL": "http://127.0.0.1:5000",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/dsr-{rows}.sqlite",
        "JOBS_URL": f"sqlite:///{folder}/jobs-{rows}.sqlite", "DSR_REGISTER": DSR_REGISTER,
        "SOURCES": {"shop": {"title": "Shop", "adapter": "sql", "register": REGISTER,
                             "settings": {"url": f"sqlite:///{folder}/shop-{rows}.sqlite",
                                          "mapping_file": str(folder / "shop.yaml")}}},
    })
    with app.app_context():
        logging.disable(logging.INFO)  # alembic's configuration would print every migration
        flask_migrate.upgrade()
        logging.disable(logging.NOTSET)
        make_user("staff@example.org", "staff")
        case = confirmed(HEAVY)
        reference = case.reference
        engine.fire(case, "start_collection", actor=STAFF)
        db.session.commit()
        started = time.perf_counter()
        run_jobs()
        collected = time.perf_counter() - started
        staff, subject = app.test_client(), app.test_client()
        assert apart(sign_in, staff, "staff@example.org").status_code == 302
        tracemalloc.start()
        figures = {"preview": peak_of(staff, f"/console/requests/{reference}/preview")}
        tracemalloc.stop()
        case = db.session.execute(db.select(type(case)).where(
            type(case).reference == reference)).scalar_one()
        engine.fire(case, "approve", actor=STAFF)
        db.session.commit()
        engine.fire(case, "release", actor=STAFF)
        db.session.commit()
        found = int(case.answer["summary"]["findings"]) if case.answer else 0
        run_jobs()
        signed = apart(press, subject, link(mails("ready")[-1]))
        assert signed.status_code == 302, (signed.status_code, signed.get_data(as_text=True)[-800:])
        tracemalloc.start()
        for view in VIEWS[1:]:
            figures[view] = peak_of(subject, f"/my/requests/{reference}/{view}")
        tracemalloc.stop()
    return {"rows": rows, "findings": found, "collected": collected, "views": figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_size(args.one, Path(args.folder))))
        return
    folder = tempfile.mkdtemp(prefix="dsr-answer-")
    figures = []
    for size in sorted(args.sizes):
        command = [sys.executable, __file__, "--one", str(size), "--folder", folder]
        run = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if run.returncode:
            sys.exit(run.stderr[-5000:])
        figure = json.loads(run.stdout.strip().splitlines()[-1])
        figures.append(figure)
        print(f"{figure['findings']:>9,} findings (collected in {figure['collected']:.1f} s): "
              + ", ".join(f"{view} {sent / 2**20:.2f} MiB sent, peak {peak:.1f} MiB"
                          for view, (sent, peak) in figure["views"].items()))
    smallest, largest = figures[0], figures[-1]
    grown = {view: largest["views"][view][1] - smallest["views"][view][1] for view in VIEWS}
    print(f"peak growth at {largest['findings'] / smallest['findings']:.0f} times the "
          "findings: " + ", ".join(f"{view} {mib:+.1f} MiB" for view, mib in grown.items())
          + f" (allowance {ALLOWANCE_MIB} MiB)")
    if any(mib > ALLOWANCE_MIB for mib in grown.values()):
        print("FAIL: a view's memory grows with the answer")
        sys.exit(1)


if __name__ == "__main__":
    main()
