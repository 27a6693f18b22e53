"""The witness: every head the trail reaches, appended after each commit to a file outside the
database (AUDIT_WITNESS_FILE) and, if AUDIT_WITNESS_SYSLOG names one, to a syslog server, so
that `flask audit verify` can tell a chain that was rewritten or cut, even by someone who holds
the database and the key, from the one that was written. A line is "seq hash time"."""

import logging
import logging.handlers
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from dsr.database import utcnow
from dsr.extensions import db
from dsr.settings import ConfigError

log = logging.getLogger(__name__)
_HEAD = "dsr.audit.head"
_SINK = "dsr.audit.witness"


@dataclass(frozen=True)
class Seen:
    """A head as the witness recorded it."""

    seq: int
    hash: str
    at: str


class WitnessUnreadable(ValueError):
    """A witness line is not one dsr wrote; the message says which."""


def init_app(app: Flask) -> None:
    """Settle where the app's witness is: AUDIT_WITNESS_FILE, or outside testing by default
    instance/audit-witness/heads.log; and the syslog server, if any."""
    if not app.config.get("AUDIT_WITNESS_FILE") and not app.testing:
        app.config["AUDIT_WITNESS_FILE"] = str(
            Path(app.instance_path) / "audit-witness" / "heads.log")
    target = app.config.get("AUDIT_WITNESS_SYSLOG")
    sink = None
    if target:
        address: Any
        if target.startswith("udp://"):
            parts = urlsplit(target)
            if not parts.hostname:
                raise ConfigError("AUDIT_WITNESS_SYSLOG: write udp://HOST:PORT or a socket path.")
            address = (parts.hostname, parts.port or 514)
        else:
            address = target
        sink = logging.getLogger(f"{__name__}.{id(app)}")
        sink.propagate = False
        sink.setLevel(logging.INFO)
        sink.addHandler(logging.handlers.SysLogHandler(address=address))
    app.extensions[_SINK] = sink


def path() -> Path | None:
    """The current app's witness file, if it keeps one."""
    configured = current_app.config.get("AUDIT_WITNESS_FILE")
    return Path(configured) if configured else None


def note(seq: int, digest: str) -> None:
    """Remember the head this transaction wrote, for the witness once it commits."""
    db.session.info[_HEAD] = (seq, digest)


def write(seq: int, digest: str) -> None:
    """Append one head to the witness (a failure is logged: the commit stands)."""
    line = f"{seq} {digest} {utcnow().isoformat()}"
    where = path()
    if where is not None:
        try:
            where.parent.mkdir(parents=True, exist_ok=True)
            with where.open("a", encoding="ascii") as file:
                file.write(line + "\n")
        except OSError as error:
            log.error("the audit witness could not be written (%s)", type(error).__name__)
    sink: logging.Logger | None = current_app.extensions.get(_SINK)
    if sink is not None:
        sink.info("dsr audit head %s", line)


def _after_commit(session: Session) -> None:
    head = session.info.pop(_HEAD, None)
    if head is not None and has_app_context():
        write(*head)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    """A head not committed (a rollback, a session closed) is never witnessed."""
    if transaction.parent is None:
        session.info.pop(_HEAD, None)


def read() -> Iterator[Seen]:
    """Every head the witness file holds, in the order written; none if there is no file."""
    where = path()
    if where is None or not where.exists():
        return
    with where.open(encoding="ascii", errors="replace") as file:
        for number, line in enumerate(file, 1):
            parts = line.split()
            if len(parts) != 3 or not parts[0].isdigit() or len(parts[1]) != 64:
                raise WitnessUnreadable(f"line {number} of the witness {where} is not a head "
                                        "dsr wrote")
            yield Seen(int(parts[0]), parts[1], parts[2])


event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_transaction_end", _after_transaction_end)
