"""The audit trail's rows. Append-only: the database refuses UPDATE and DELETE on them."""

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Dialect, String
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from dsr.database import Base, UTCDateTime


class CanonicalJSON(TypeDecorator[Any]):
    """JSON stored in the audit chain's canonical encoding (sorted keys, no spaces), so
    that `flask audit verify` hashes the stored text as it is, without decoding it; read
    back as JSON is."""

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], str | None]:
        def process(value: Any) -> str | None:
            if value is None:
                return None
            return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return process


class AuditHead(Base):
    """The chain's newest event, in one row. Appending updates it first, which serialises
    appends on every backend, and `verify` compares it with the chain: events cut from the
    end leave the head pointing past the last one."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))


class AuditEvent(Base):
    """One event in the hash chain; `hash` covers every other column and `prev_hash`: an
    HMAC-SHA256 under the key `key_id` names (kept outside the database), or, for events
    written before the trail was keyed, a plain SHA-256."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    # A plain number, not a foreign key: purging a request must never need to touch the trail.
    request_id: Mapped[int | None] = mapped_column(index=True)
    details: Mapped[dict[str, Any]] = mapped_column(CanonicalJSON)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_id: Mapped[str | None] = mapped_column(String(32))
