"""Time a confirmed access request from "start collection" to a ready report, over the demo
company's systems (WHMCS, Matomo and Kayako stand-ins, live chats by SQL), for the demo data
and for ten times the demo data.

    .venv/bin/python bench/access.py [--scales 1 10] [--runs 5]

Scale 1 is the demo company (1,000 customers, 100,000 visits); scale 10 has 10,000 customers
and 1,000,000 visits. Prints the median of the runs (each for a different customer).
"""

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path

import flask_migrate

from dsr import collection, create_app, engine, report
from dsr.actors import SUBJECT, Actor
from dsr.demo import company, sources
from dsr.demo.standins import serve
from dsr.demo.standins.kayako import create_kayako
from dsr.demo.standins.matomo import create_matomo
from dsr.demo.standins.whmcs import create_whmcs
from dsr.extensions import db

STAFF = Actor("user:1", frozenset({"staff"}))


def main() -> None:
    # The stand-ins and migrations log every step; the figures are what matters here.
    for name in ("werkzeug", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="dsr-bench-"))
    for scale in args.scales:
        instance = root / f"scale-{scale}"
        folder = sources.company_folder(str(instance))
        people = company.build(folder, customers_count=1000 * scale, visits=100_000 * scale)
        running = [
            serve(create_whmcs(folder / "billing.sqlite", *sources.WHMCS_CREDENTIALS)),
            serve(create_matomo(folder / "analytics.sqlite", sources.MATOMO_TOKEN)),
            serve(create_kayako(folder / "helpdesk.sqlite", *sources.KAYAKO_KEYS)),
        ]
        config = sources.demo_sources(str(instance))
        for name, server in zip(("billing", "analytics", "helpdesk"), running, strict=True):
            url = server.url + ("/api/index.php" if name == "helpdesk" else "")
            config[name]["settings"]["url"] = url
        app = create_app({"TESTING": True, "SECRET_KEY": "bench" * 8,
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'dsr.sqlite'}",
                          "SOURCES": config, "BACKGROUND_JOBS": False})
        timings = []
        with app.app_context():
            flask_migrate.upgrade()
            for person in people[100 : 100 + args.runs]:
                case = engine.open_request("access", actor=SUBJECT,
                                           requester_email=person.email)
                engine.fire(case, "verify", actor=SUBJECT)
                db.session.commit()
                started = time.perf_counter()
                engine.fire(case, "start_collection", actor=STAFF)
                db.session.commit()
                collection.run_job(case.id, STAFF)
                assert case.state == "in_review", case.state
                compiled = report.compile_report(case)
                timings.append(time.perf_counter() - started)
                assert compiled["categories"]
        for server in running:
            server.stop()
        print(f"scale {scale:>2} ({1000 * scale:,} customers, {100_000 * scale:,} visits): "
              f"start collection to report ready, median {statistics.median(timings) * 1000:.0f}"
              f" ms over {len(timings)} requests (min {min(timings) * 1000:.0f}, "
              f"max {max(timings) * 1000:.0f})")


if __name__ == "__main__":
    main()
