"""Requests: access, correction and disclosure cases, each moved by its workflow."""

import enum
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dsr.database import Base, UTCDateTime, utcnow

# Crockford's base32: no I, L, O or U, so a reference read over the phone is not misheard.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference() -> str:
    """Return a random public reference such as 7GQ4-K2MX-9ZRT-0BHD (80 bits)."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(16))
    return "-".join(chars[i : i + 4] for i in range(0, 16, 4))


def normalise_reference(typed: str) -> str:
    """Read a reference as typed or heard: any case, no dashes, O for 0, I or L for 1."""
    chars = typed.upper().translate(str.maketrans("OIL", "011", " -_"))
    return "-".join(chars[i : i + 4] for i in range(0, len(chars), 4))


class RequestType(enum.StrEnum):
    """The kinds of request, one workflow each."""

    ACCESS = "access"
    CORRECTION = "correction"
    DISCLOSURE = "disclosure"


# Staff handle access and correction requests; disclosures are legal's alone (their register).
STAFF_TYPES = (RequestType.ACCESS.value, RequestType.CORRECTION.value)


class Request(Base):
    """One case: its type, where its workflow stands, its legal clock and who asked."""

    __tablename__ = "requests"
    __table_args__ = (
        CheckConstraint("type IN ('access', 'correction', 'disclosure')", name="known_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(19), unique=True, default=new_reference)
    type: Mapped[str] = mapped_column(String(16), index=True)
    state: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    extended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    requester_email: Mapped[str] = mapped_column(String(254), index=True)
    requester_name: Mapped[str] = mapped_column(String(200), default="")
    # What the subject wrote with the request, if anything.
    message: Mapped[str | None] = mapped_column(Text)
    # What a visitor who is not a customer gave to be found in the analytics: the visitor IDs
    # their browser presented and the IP addresses they named with the days of their visits
    # ({"visitor_ids": [...], "claimed_ips": [ClaimedIp.as_json(), ...]}). Personal data:
    # it lives here, goes with the request, and never reaches the audit trail, logs or URLs.
    visitor_identifiers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The secret in the verification link now valid; emptied once used, so a link works once.
    verify_nonce: Mapped[str | None] = mapped_column(String(32))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the answer was released to the subject; the report can be read for a while after.
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The answer exactly as released: what staff approved is what the subject reads, even if
    # a source or the register changes afterwards.
    answer: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Reasons are free text, so they live here, where retention can purge them, and never in
    # the audit trail. The extension's reason is told to the subject (Art. 12(3)).
    decision_reason: Mapped[str | None] = mapped_column(Text)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    # When a retention rule (by name) last purged the request's personal side; what is left
    # is its skeleton: reference, type, dates, states and the audit trail (dsr/retention).
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purged_by_rule: Mapped[str | None] = mapped_column(String(64))

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it once)

    def __repr__(self) -> str:
        return f"<Request {self.id} {self.type} {self.state}>"


class RequestNote(Base):
    """A note staff keep on a request: free text, so it lives here, never in the audit trail."""

    __tablename__ = "request_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"),
                                            index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    text: Mapped[str] = mapped_column(Text)
