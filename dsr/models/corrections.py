"""Correction requests' parts: the changes a subject proposes, where each approved change is
written, and the recipients told of it (GDPR Art. 16 and 19).

Each change has its own small state, so that a slow or failing source holds back only the
changes it is part of: proposed -> approved | rejected | withdrawn; approved -> applied, or
failed until a retry succeeds; an approved e-mail change -> withdrawn when its old address
stops it before anything is written. Values are personal data: they live here, never in the
audit trail; the correction_values retention rule purges them (dsr/corrections/retention.py).
"""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.database import Base, UTCDateTime, utcnow

CHANGE_STATES = ("proposed", "approved", "rejected", "withdrawn", "applied", "failed")
# pending: to be written (perhaps after a cooling-off); writing: claimed by one write-back;
# manual: a task for staff, for a source without write-back; done: that task ticked off;
# confirmed: written and read back.
TARGET_STATES = ("pending", "writing", "confirmed", "failed", "manual", "done")
# The source name of a target that is no source dsr reaches: a task done by hand elsewhere.
ELSEWHERE = "elsewhere"


class ProposedChange(Base):
    """One value the subject says is wrong, what it should be, and what staff decided."""

    __tablename__ = "proposed_changes"
    __table_args__ = (
        CheckConstraint(f"state IN {CHANGE_STATES}", name="known_state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"),
                                            index=True)
    category: Mapped[str] = mapped_column(String(16))
    # Which record the subject pointed at, from their access report: "source: label".
    record_hint: Mapped[str] = mapped_column(String(300), default="")
    # What the subject says the sources hold now (optional), and what it should be.
    current_value: Mapped[str] = mapped_column(Text, default="")
    proposed_value: Mapped[str] = mapped_column(Text)
    why: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="proposed")
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Told to the subject with a rejection (Art. 12(4)); free text, so never in the trail.
    decision_reason: Mapped[str | None] = mapped_column(Text)
    # An e-mail change waits out a cooling-off after the notice to the old address.
    apply_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The secret of the link in that notice that stops the change; emptied once used, and
    # when the change starts to be made (from then on, only staff can undo it).
    stop_nonce: Mapped[str | None] = mapped_column(String(32))
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The subject's supplementary statement after a rejection (Art. 16, second sentence).
    statement: Mapped[str | None] = mapped_column(Text)
    statement_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    targets: Mapped[list["ChangeTarget"]] = relationship(
        back_populates="change", cascade="all, delete-orphan", order_by="ChangeTarget.id")


class ChangeTarget(Base):
    """One record in one source that an approved change is written to, and how that went."""

    __tablename__ = "change_targets"
    __table_args__ = (
        CheckConstraint(f"state IN {TARGET_STATES}", name="known_state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int] = mapped_column(
        ForeignKey("proposed_changes.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(64))
    record_kind: Mapped[str] = mapped_column(String(64), default="")
    record_key: Mapped[str] = mapped_column(String(200), default="")
    record_field: Mapped[str] = mapped_column(String(64), default="")
    label: Mapped[str] = mapped_column(String(200), default="")
    # The value the source held when staff approved: personal data (see the module's note).
    previous_value: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    # Adapters' messages hold no personal data (the adapter contract says so).
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # A manual task: who ticked it off, and their note on what they did.
    done_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    done_note: Mapped[str | None] = mapped_column(Text)

    change: Mapped[ProposedChange] = relationship(back_populates="targets")


class RecipientNotice(Base):
    """One recipient of a source told of a rectification (Art. 19), or why it could not be."""

    __tablename__ = "recipient_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"),
                                            index=True)
    source: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(200))
    # queued: in the outbox; no_address: the register names no address to tell them at.
    state: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
