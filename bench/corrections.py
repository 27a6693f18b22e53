"""Time a correction from "send decisions" to applied: two approved changes written to the
demo company's WHMCS stand-in over HTTP and read back, and the recipients' notices queued.

    .venv/bin/python bench/corrections.py [--runs 5]

Each run is a different customer of the demo company (1,000 customers, 100,000 visits), whose
request was confirmed, collected and its changes approved before the clock starts. Prints the
median.
"""

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path

from company import STAFF, demo_company, reaches
from sqlalchemy import select

from dsr import corrections, engine
from dsr.actors import SUBJECT
from dsr.categories import Category
from dsr.corrections import Proposal
from dsr.extensions import db
from dsr.models import FoundItem, Request


def reviewed(email: str, number: int) -> int:
    """A correction request for a new telephone number and surname, both approved (not yet
    sent); its id."""
    case = engine.open_request("correction", actor=SUBJECT, requester_email=email)
    corrections.propose(case, [Proposal(Category.PHONE, f"+49 30 9018{number:04d}"),
                               Proposal(Category.NAME, f"Benchmark-{number}")])
    engine.fire(case, "verify", actor=SUBJECT)
    engine.fire(case, "start_collection", actor=STAFF)
    db.session.commit()
    reaches(db.session.get(Request, case.id), "in_review")
    for change in corrections.changes_of(case):
        field = "phonenumber" if change.category == Category.PHONE.value else "lastname"
        item = db.session.execute(select(FoundItem.id).where(
            FoundItem.request_id == case.id, FoundItem.source == "billing",
            FoundItem.record_kind == "client", FoundItem.record_field == field)).scalar_one()
        corrections.approve(case, change, [item], False, actor=STAFF, user_id=1)
    db.session.commit()
    return case.id


def main() -> None:
    for name in ("werkzeug", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    timings = []
    with demo_company(Path(tempfile.mkdtemp(prefix="dsr-bench-"))) as (_, people):
        for number, person in enumerate(people[200 : 200 + args.runs]):
            case = db.session.get(Request, reviewed(person.email, number))
            started = time.perf_counter()
            engine.fire(case, "decide", actor=STAFF)  # dsr applies the approved at once
            db.session.commit()
            reaches(case, "applied")
            timings.append(time.perf_counter() - started)
    print(f"decide to applied (2 changes written to WHMCS over HTTP and read back): median "
          f"{statistics.median(timings) * 1000:.0f} ms over {len(timings)} requests "
          f"(min {min(timings) * 1000:.0f}, max {max(timings) * 1000:.0f})")


if __name__ == "__main__":
    main()
