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
from pathlib import Path

from company import answered, demo_company


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
        timings = []
        with demo_company(root / f"scale-{scale}", scale) as (_, people):
            for person in people[100 : 100 + args.runs]:
                took, compiled = answered(person.email)
                timings.append(took)
                assert compiled["summary"]["findings"], "the customer has an answer"
        print(f"scale {scale:>2} ({1000 * scale:,} customers, {100_000 * scale:,} visits): "
              f"start collection to report ready, median {statistics.median(timings) * 1000:.0f}"
              f" ms over {len(timings)} requests (min {min(timings) * 1000:.0f}, "
              f"max {max(timings) * 1000:.0f})")


if __name__ == "__main__":
    main()
