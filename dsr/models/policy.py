"""The privacy policy as versioned text, and the e-mail that tells customers of a new version.

A version is a draft until an admin publishes it; from then on its text, summary and dates
never change (the database refuses), and it is only superseded: by a later version once that
takes effect, or, if a later one is published before its own effective date, withdrawn
without ever taking effect.
"""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dsr.database import Base, UTCDateTime, utcnow


class PolicyVersion(Base):
    """One version of the privacy policy: its text, what changed, and from when it applies."""

    __tablename__ = "policy_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # 1, 2, 3, ... in the order of publishing; a draft has none yet.
    number: Mapped[int | None] = mapped_column(Integer, unique=True)
    text: Mapped[str] = mapped_column(Text)  # Markdown
    summary: Mapped[str] = mapped_column(Text)
    effective_on: Mapped[date] = mapped_column(Date)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when a later version was published before this one took effect: it never will.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_number: Mapped[int | None] = mapped_column(Integer)

    @property
    def published(self) -> bool:
        """Tell whether the version is public (and so can no longer be edited)."""
        return self.published_at is not None


class PolicyMailing(Base):
    """The e-mail to every customer about one published version: listing the customers, then
    sending at the configured rate, each message an outbox row of this mailing."""

    __tablename__ = "policy_mailings"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("policy_versions.id"), unique=True)
    # listing -> sending -> done
    state: Mapped[str] = mapped_column(String(16), default="listing")
    # The versions this one withdrew before they took effect: its e-mail corrects theirs.
    corrects: Mapped[str] = mapped_column(String(200), default="")
    listed: Mapped[int] = mapped_column(default=0)
    # Customers whose account is newer than the version are not told of it.
    skipped_newer: Mapped[int] = mapped_column(default=0)
    # Sources that could not list their customers, by name (codes, not messages).
    failed_sources: Mapped[str] = mapped_column(String(400), default="")
    # Claimed by the one job sending now, until then, so that the rate holds.
    sender_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
