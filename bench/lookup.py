"""Time one subject's lookup through the sql adapter against 10^5 and 10^6 customers.

    .venv/bin/python bench/lookup.py [--sizes 100000 1000000] [--lookups 300] [--no-index]

Builds SQLite billing databases shaped like the demo company's (clients with two activity-log
rows each) in a temporary folder, then looks up random customers by e-mail address through
the demo billing mapping. Prints the median and 95th percentile per lookup for each size.
"""

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from dsr.adapters import SubjectIdentity
from dsr.adapters.sql import SqlAdapter
from dsr.demo.sources import MAPPINGS


def build(path: Path, customers: int, indexed: bool) -> None:
    """Write `customers` clients, a contact for every tenth, two sign-ins each."""
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE tblclients (id INTEGER PRIMARY KEY, firstname TEXT, lastname TEXT,
            companyname TEXT, email TEXT, address1 TEXT, city TEXT, postcode TEXT, country TEXT,
            phonenumber TEXT, tax_id TEXT, datecreated TEXT, status TEXT);
        CREATE TABLE tblcontacts (id INTEGER PRIMARY KEY, userid INTEGER, firstname TEXT,
            lastname TEXT, email TEXT, phonenumber TEXT);
        CREATE TABLE tblbankaccts (id INTEGER PRIMARY KEY, userid INTEGER, bank_name TEXT,
            acct_holder TEXT, iban TEXT);
        CREATE TABLE tblactivitylog (id INTEGER PRIMARY KEY, date TEXT, description TEXT,
            user TEXT, userid INTEGER, ipaddr TEXT);
    """)
    db.executemany("INSERT INTO tblclients VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", (
        (n, "Ana", f"Client{n}", "", f"client{n}@example.com", "1 Main Street", "Berlin",
         "10115", "DE", f"+49 30 {n:07d}", "", "2026-01-01", "Active")
        for n in range(1, customers + 1)))
    db.executemany("INSERT INTO tblcontacts (userid, firstname, lastname, email, phonenumber) "
                   "VALUES (?,?,?,?,?)", (
                       (n, "Bo", f"Contact{n}", f"contact{n}@example.com", "")
                       for n in range(10, customers + 1, 10)))
    db.executemany("INSERT INTO tblactivitylog (date, description, user, userid, ipaddr) "
                   "VALUES (?,?,?,?,?)", (
                       ("2026-03-01 10:00:00", "Client Login", "Client", n % customers + 1,
                        f"10.{n % 250}.{n // 250 % 250}.1")
                       for n in range(2 * customers)))
    if indexed:
        db.executescript("""
            CREATE INDEX tblclients_email ON tblclients (email);
            CREATE INDEX tblclients_phonenumber ON tblclients (phonenumber);
            CREATE INDEX tblcontacts_userid ON tblcontacts (userid);
            CREATE INDEX tblcontacts_email ON tblcontacts (email);
            CREATE INDEX tblbankaccts_userid ON tblbankaccts (userid);
            CREATE INDEX tblactivitylog_userid ON tblactivitylog (userid);
        """)
    db.commit()
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--lookups", type=int, default=300)
    parser.add_argument("--no-index", action="store_true", help="Build without the indexes.")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="dsr-bench-"))
    rng = random.Random(1)
    for size in args.sizes:
        path = folder / f"billing-{size}.sqlite"
        build(path, size, indexed=not args.no_index)
        adapter = SqlAdapter("billing", {"url": f"sqlite:///{path}",
                                         "mapping_file": str(MAPPINGS / "billing.yaml")})
        adapter.lookup(SubjectIdentity.of("warm-up@example.com"))
        timings = []
        for _ in range(args.lookups):
            subject = SubjectIdentity.of(f"client{rng.randint(1, size)}@example.com")
            started = time.perf_counter()
            found = adapter.lookup(subject)
            timings.append(time.perf_counter() - started)
            assert found, "every looked-up customer exists"
        timings.sort()
        print(f"sql adapter, {size:>9,} customers{' (no indexes)' if args.no_index else ''}: "
              f"median {statistics.median(timings) * 1000:.2f} ms, "
              f"p95 {timings[int(len(timings) * 0.95)] * 1000:.2f} ms per lookup "
              f"({args.lookups} lookups)")


if __name__ == "__main__":
    main()
