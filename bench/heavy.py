"""A heavy subject on PostgreSQL: from "start collection" to a ready answer for a customer with
20,000 orders of their own in a shop database, against the raw SELECTs the sql adapter sends
for them, replayed in the same run on a bare psycopg connection.

    .venv/bin/python bench/heavy.py [--rows 20000] [--customers 1000] [--runs 5] [--growth]

The bench starts its own PostgreSQL server, as the tests do, with two databases: the shop
(customers, and their orders) that dsr's sql adapter reads, and dsr's own. Each run is a new
confirmed access request; the time runs from firing start_collection to the compiled answer
(the job consumer, threads of this process, asks the source and moves the request to review).
--growth measures ten times the subject's rows (linear at most) and ten times the customers
(at most 1.3 times). Exits 1 above 0.3 s median or 10 times the SELECTs.
"""

import argparse
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import flask_migrate
from flask import Flask
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from company import answered, confirmed, consuming

from dsr import create_app
from dsr.adapters.registry import configured
from dsr.collection import subject_of
from dsr.demo.sources import DSR_REGISTER
from tests import servers

HEAVY = "heavy@shop.example"
MEDIAN_BOUND, FLOOR_BOUND = 0.3, 10.0
MAPPING = """\
subject:
  table: customers
  key: id
  label: Shop customer
  match: {email: email}
  fields:
    name: {category: name, label: Name}
    email: {category: email, label: E-mail address}
    phone: {category: phone, label: Telephone}
related:
  - table: orders
    key: id
    label: Order
    join: {column: customer_id, to: id}
    activity: order
    summary: item
    context: [placed_at, total, status]
    dated: placed_at
"""
REGISTER = {
    "purposes": ["Orders and delivery"], "legal_basis": "Contract (GDPR Art. 6(1)(b))",
    "subjects": ["Customers"], "categories": ["name", "email", "phone", "order"],
    "retention": "Ten years, as tax law requires", "origin": "Given by the customer",
    "transfers": "None outside the EEA.", "automated_decisions": "None.",
}


def build_shop(url: str, customers: int, rows: int) -> None:
    """The shop: `customers` customers with 10 orders each, and the heavy one with `rows`."""
    started = datetime(2020, 1, 1, tzinfo=UTC)
    with servers.connect(url) as connection:
        connection.execute("""
            CREATE TABLE customers (id integer PRIMARY KEY, email text, name text, phone text);
            CREATE TABLE orders (id integer PRIMARY KEY, customer_id integer, item text,
                                 total numeric(10, 2), status text, placed_at timestamptz);
        """)
        with connection.cursor().copy("COPY customers FROM STDIN") as copy:
            copy.write_row((1, HEAVY, "Hana Heavy", "+49 30 1234567"))
            for n in range(2, customers + 1):
                copy.write_row((n, f"customer{n}@shop.example", f"Customer {n}",
                                f"+49 30 {n:07d}"))
        order = 0
        with connection.cursor().copy("COPY orders FROM STDIN") as copy:
            for customer, count in [(1, rows), *((n, 10) for n in range(2, customers + 1))]:
                for k in range(count):
                    order += 1
                    copy.write_row((order, customer, f"Order {order}: hosting plan {k % 7}",
                                    f"{(order % 90) + 9}.90", "paid",
                                    started + timedelta(minutes=37 * k)))
        connection.execute("CREATE INDEX ON customers (email)")
        connection.execute("CREATE INDEX ON orders (customer_id)")
        connection.execute("ANALYZE")


@contextmanager
def heavy_app(server: str, customers: int, rows: int, folder: Path) -> Iterator[Flask]:
    """A dsr app on its own database over a fresh shop, its jobs run by a consumer."""
    name = f"shop_{customers}_{rows}"
    servers.admin_sql(server, f"CREATE DATABASE {name}")
    servers.admin_sql(server, f"CREATE DATABASE dsr_{name}")
    build_shop(f"{server}/{name}", customers, rows)
    (folder / "shop.yaml").write_text(MAPPING, encoding="utf-8")
    app = create_app({
        "TESTING": True, "SECRET_KEY": "bench" * 8,
        "SQLALCHEMY_DATABASE_URI": f"{server}/dsr_{name}",
        "JOBS_URL": f"sqlite:///{folder / f'jobs-{name}.sqlite'}",
        "DSR_REGISTER": DSR_REGISTER,
        "SOURCES": {"shop": {"title": "Shop", "adapter": "sql", "register": REGISTER,
                             "settings": {"url": f"{server}/{name}",
                                          "mapping_file": str(folder / "shop.yaml")}}},
    })
    with app.app_context():
        logging.disable(logging.INFO)  # alembic's configuration would print every migration
        flask_migrate.upgrade()
        logging.disable(logging.NOTSET)
        with consuming(workers=2):
            yield app


def raw_selects(server_url: str, name: str) -> float:
    """Seconds for the SELECTs the adapter sends for HEAVY, on a bare psycopg connection:
    captured from one lookup, then replayed, every row fetched."""
    adapter: Any = configured()["shop"].adapter
    sent: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(adapter._engine, "before_cursor_execute", capture)
    try:
        adapter.lookup(subject_of(confirmed(HEAVY)))
    finally:
        event.remove(adapter._engine, "before_cursor_execute", capture)
    with servers.connect(f"{server_url}/{name}") as connection:
        cursor = connection.cursor()
        started = time.perf_counter()
        for statement, parameters in sent:
            cursor.execute(statement, parameters)
            cursor.fetchall()
        return time.perf_counter() - started


def measure(server: str, customers: int, rows: int, runs: int, folder: Path
            ) -> tuple[float, float]:
    """Median seconds to a ready answer, and median seconds of the raw SELECTs."""
    timings, floors = [], []
    with heavy_app(server, customers, rows, folder):
        answered(HEAVY)  # warm: connections, compiled statements
        for _ in range(runs):
            floors.append(raw_selects(server, f"shop_{customers}_{rows}"))
            took, compiled = answered(HEAVY)
            found = int(compiled["summary"]["findings"])
            assert found >= rows, (found, rows)
            timings.append(took)
    took, floor = statistics.median(timings), statistics.median(floors)
    print(f"{customers:,} customers, subject with {rows:,} orders: start collection to answer "
          f"ready, median {took * 1000:.0f} ms over {runs} requests (min "
          f"{min(timings) * 1000:.0f}, max {max(timings) * 1000:.0f}); the adapter's SELECTs "
          f"alone {floor * 1000:.1f} ms; {took / floor:.1f} times", flush=True)
    return took, floor


def main() -> None:
    for name in ("alembic", "huey", "huey.consumer"):
        logging.getLogger(name).setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--growth", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="dsr-bench-"))
    failed = False
    with servers.postgres() as server:
        took, floor = measure(server, args.customers, args.rows, args.runs, folder)
        if took > MEDIAN_BOUND or took > FLOOR_BOUND * floor:
            print(f"over the bound: {MEDIAN_BOUND} s and {FLOOR_BOUND:.0f} times the SELECTs")
            failed = True
        if args.growth:
            small, _ = measure(server, args.customers, args.rows // 10, args.runs, folder)
            many, _ = measure(server, args.customers * 10, args.rows, args.runs, folder)
            rows_ratio, customers_ratio = took / small, many / took
            print(f"ten times the rows: {rows_ratio:.1f} times the time (bound 10); ten times "
                  f"the customers: {customers_ratio:.2f} times (bound 1.3)")
            failed = failed or rows_ratio > 10 or customers_ratio > 1.3
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
