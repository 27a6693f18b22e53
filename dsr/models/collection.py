"""What collection found for a request, and how each source's run went."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dsr.database import Base, UTCDateTime


class SourceRun(Base):
    """One source's part in collecting a request: running, done or failed, and why."""

    __tablename__ = "source_runs"
    __table_args__ = (UniqueConstraint("request_id", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Adapters' messages hold no personal data (the adapter contract says so).
    error: Mapped[str | None] = mapped_column(Text)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    findings: Mapped[int] = mapped_column(default=0)
    # What an identifying source found that widens every other source's search (customer
    # numbers, account IPs), kept even when the finding itself is not: purged with the request.
    identity: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    # What the source was searched by: identity keys and how many of each (never the values).
    searched: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # How the collection was started, so that a retry asks the same way: the dotted name of
    # what narrows whom to ask and what to keep, and the trigger fired once all answered.
    scope: Mapped[str | None] = mapped_column(String(200))
    follow_up: Mapped[str | None] = mapped_column(String(64))


class FoundItem(Base):
    """One finding stored for a request: personal data, purged with the request."""

    __tablename__ = "found_items"
    __table_args__ = (Index("ix_found_items_request_source", "request_id", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(200))
    value: Mapped[str] = mapped_column(Text)
    record_kind: Mapped[str] = mapped_column(String(64))
    record_key: Mapped[str] = mapped_column(String(200))
    record_field: Mapped[str] = mapped_column(String(64), default="")
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Left out of the answer by staff at review, because it would reveal other people's
    # personal information (GDPR Art. 15(4)).
    withheld: Mapped[bool] = mapped_column(default=False)
