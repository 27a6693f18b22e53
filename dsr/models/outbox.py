"""The transactional outbox: e-mail written in the same transaction as the change it tells of,
and delivered afterwards, so that an SMTP outage delays a message but never loses it."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, and_, text
from sqlalchemy.orm import Mapped, mapped_column

from dsr.database import Base, UTCDateTime, utcnow

# pending -> sending (claimed by one sender) -> sent; or failed after OUTBOX_MAX_ATTEMPTS;
# or bounced: the server refused the address for good (a 5xx answer), not tried again.
OUTBOX_STATES = ("pending", "sending", "sent", "failed", "bounced")
_LISTED = and_(text("mailing_id IS NOT NULL"), text("to_address <> ''"))


class OutboxMessage(Base):
    """One e-mail: pending until an SMTP server accepts it, then sent."""

    __tablename__ = "outbox_messages"
    # A mailing writes one message per address: a listing run again after a crash adds none.
    __table_args__ = (
        Index("uq_outbox_messages_mailing_address", "mailing_id", "to_address", unique=True,
              sqlite_where=_LISTED, postgresql_where=_LISTED),
        # What one address's e-mail budget counts (dsr.subjects.limits).
        Index("ix_outbox_messages_to_address_created_at", "to_address", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), index=True
    )
    # The policy notice this message belongs to; those are sent by their mailing, at its rate.
    mailing_id: Mapped[int | None] = mapped_column(
        ForeignKey("policy_mailings.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the SMTP server said (a code and its class), never the message or its address.
    last_error: Mapped[str | None] = mapped_column(String(200))


class SubjectSignIn(Base):
    """A sign-in link sent to a subject's confirmed address; the link works once, and starts
    the one session that it names: the hash of the secret the browser holds, until when it
    lasts, and when a sign-out (in any browser, for this address) ended it."""

    __tablename__ = "subject_sign_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    session_hash: Mapped[str | None] = mapped_column(String(64))
    session_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
