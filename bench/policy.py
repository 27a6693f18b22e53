"""Time listing every customer for a policy notice, and its peak memory, at two sizes.

    .venv/bin/python bench/policy.py [--sizes 10000 100000] [--database-url URL]

For each size: builds a SQLite billing database shaped like the demo company's (the client
table of the demo billing mapping, `datecreated` the day each account was opened), publishes
a new policy version in a fresh dsr database and runs the listing job by hand: every customer
streamed from the sql adapter, de-duplicated by address, written to the outbox as one queued
notice each (1 in 20 clients shares another's address in a different case) and the sending job
declared. Each size runs in its own process, so the peak resident memory it prints is that
size's own. Exits 1 when the larger size's listing grows the process by more than a fixed
allowance over the smaller's: memory must stay flat however many customers there are.
"""

import argparse
import json
import logging
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import flask_migrate
import yaml
from sqlalchemy import func, select

from dsr import create_app, policy
from dsr.actors import Actor
from dsr.demo.sources import DSR_REGISTER, MAPPINGS
from dsr.extensions import db
from dsr.models import OutboxMessage, PolicyMailing, User, UserRole
from dsr.policy import notices

# How much more the larger size's listing may grow the process than the smaller's: the
# database driver's and the allocator's caches, not a copy of the customers.
ALLOWANCE_MIB = 24


def build_billing(path: Path, customers: int) -> int:
    """Write `customers` clients; return how many distinct addresses they have."""
    connection = sqlite3.connect(path)
    connection.execute(
        "CREATE TABLE tblclients (id INTEGER PRIMARY KEY, firstname TEXT, lastname TEXT, "
        "companyname TEXT, email TEXT, address1 TEXT, city TEXT, postcode TEXT, "
        "country TEXT, phonenumber TEXT, tax_id TEXT, datecreated TEXT, status TEXT)")
    connection.executemany(
        "INSERT INTO tblclients VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        ((n, "Ana", f"Client{n}", "", address(n), "1 Main Street", "Berlin", "10115", "DE",
          f"+49 30 {n:07d}", "", "2025-01-01", "Active") for n in range(1, customers + 1)))
    connection.commit()
    connection.close()
    return len({address(n).lower() for n in range(1, customers + 1)})


def address(n: int) -> str:
    """Client n's address: every 20th is client n-1's, typed in capitals."""
    return f"CLIENT{n - 1}@EXAMPLE.COM" if n % 20 == 0 else f"client{n}@example.com"


def mapping_file(folder: Path) -> Path:
    """The demo billing mapping's client table (all a listing reads), dated by
    `datecreated`."""
    mapping = yaml.safe_load((MAPPINGS / "billing.yaml").read_text())
    mapping = {"subject": mapping["subject"] | {"since": "datecreated"}}
    path = folder / "billing.yaml"
    path.write_text(yaml.safe_dump(mapping))
    return path


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_size(customers: int, folder: Path, database_url: str | None) -> dict[str, float]:
    """List `customers` for a new version; the figures, as the child process measured them."""
    billing = folder / f"billing-{customers}.sqlite"
    distinct = build_billing(billing, customers)
    url = database_url or f"sqlite:///{folder}/dsr-{customers}.sqlite"
    app = create_app({
        "TESTING": True, "SECRET_KEY": "bench-" * 8, "SQLALCHEMY_DATABASE_URI": url,
        "ADAPTER_ENTRY_POINTS": False, "PUBLIC_URL": "https://privacy.example",
        "DSR_REGISTER": DSR_REGISTER, "SOURCES": {"billing": {
            "adapter": "sql", "identifies": "client", "register": DSR_REGISTER,
            "settings": {"url": f"sqlite:///{billing}",
                         "mapping_file": str(mapping_file(folder))}}},
    })
    with app.app_context():
        flask_migrate.upgrade(directory=str(Path(app.root_path) / "migrations"))
        admin = User(email="admin@example.org", password_hash="-")  # noqa: S106 (never signs in)
        db.session.add(admin)
        db.session.flush()
        db.session.add(UserRole(user_id=admin.id, role="admin"))
        db.session.flush()
        actor = Actor.for_user(admin)
        draft = policy.save_draft(None, text="# Policy\n\nChanged.\n", summary="It changes.",
                                  effective_on=policy.today() + timedelta(days=30), actor=actor)
        mailing = policy.publish(draft, actor=actor)
        db.session.commit()
        before = peak_mib()
        started = time.perf_counter()
        notices.list_customers(mailing.id)
        seconds = time.perf_counter() - started
        after = peak_mib()
        db.session.expire_all()
        listed = db.session.execute(select(func.count(OutboxMessage.id))).scalar_one()
        state = db.session.get(PolicyMailing, mailing.id).state  # type: ignore[union-attr]
        assert listed == distinct, f"{listed} notices queued for {distinct} addresses"
        assert state == "sending", "the sending job is declared once all are listed"
        if database_url:
            db.drop_all()
            db.session.execute(db.text("DROP TABLE IF EXISTS alembic_version"))
            db.session.commit()
    return {"customers": customers, "queued": listed, "seconds": seconds,
            "peak_mib": after, "growth_mib": after - before}


def main() -> None:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--database-url", help="An empty database (default: SQLite).")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_size(args.one, Path(args.folder), args.database_url)))
        return
    folder = tempfile.mkdtemp(prefix="dsr-bench-")
    figures = []
    for size in sorted(args.sizes):
        command = [sys.executable, __file__, "--one", str(size), "--folder", folder]
        if args.database_url:
            command += ["--database-url", args.database_url]
        run = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if run.returncode:
            sys.exit(run.stderr)
        figure = json.loads(run.stdout.strip().splitlines()[-1])
        figures.append(figure)
        print(f"{figure['customers']:>9,} customers, {figure['queued']:>9,} notices queued: "
              f"{figure['seconds']:6.2f} s ({figure['queued'] / figure['seconds']:,.0f}/s), "
              f"peak {figure['peak_mib']:.0f} MiB, listing grew it by "
              f"{figure['growth_mib']:.1f} MiB")
    smallest, largest = figures[0], figures[-1]
    if largest["growth_mib"] > smallest["growth_mib"] + ALLOWANCE_MIB:
        print(f"FAIL: memory grows with the count ({smallest['growth_mib']:.1f} MiB at "
              f"{smallest['customers']:,}, {largest['growth_mib']:.1f} MiB at "
              f"{largest['customers']:,}; allowance {ALLOWANCE_MIB} MiB)")
        sys.exit(1)
    print(f"Memory flat: {largest['customers'] // smallest['customers']}x the customers, "
          f"{largest['growth_mib'] - smallest['growth_mib']:+.1f} MiB "
          f"(allowance {ALLOWANCE_MIB} MiB).")


if __name__ == "__main__":
    main()
