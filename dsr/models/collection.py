"""What collection found for a request, and how each source's run went."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dsr.database import Base, UTCDateTime


@dataclass(frozen=True)
class Ground:
    """Why staff withhold part of an answer: as staff choose it, as the answer's summary gives
    it ("because ..."), and as it stands in place of a withheld passage."""

    label: str
    reason: str
    short: str


# The grounds staff may withhold on. For "other" the note staff write is the reason given.
GROUNDS = {
    "another_person": Ground("Another person's data (Art. 15(4))",
                             "it would reveal another person's personal information "
                             "(Art. 15(4))", "another person's personal information"),
    "trade_secret": Ground("Trade secret", "it would reveal a trade secret (Art. 15(4))",
                           "trade secret"),
    "legal_privilege": Ground("Legal privilege", "it is covered by legal privilege",
                              "legal privilege"),
    "other": Ground("Other (say why in the note)", "", ""),
}


# Context keys that date a record, most telling first, as the adapters write them.
DATE_KEYS = ("date", "opened", "created", "started", "sent", "dateline", "first_seen",
             "last_seen")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def record_date(context: Mapping[str, Any]) -> str:
    """The date (YYYY-MM-DD) a record's context gives, or "" for an undated one."""
    for key in DATE_KEYS:
        if match := _DATE.match(str(context.get(key, ""))):
            return match.group(0)
    for value in context.values():
        if match := _DATE.match(str(value)):
            return match.group(0)
    return ""


def withheld_because(ground: str, note: str | None) -> str:
    """The reason the answer gives for what is withheld on `ground`: the note, for "other"."""
    return GROUNDS[ground].reason or (note or "")


def withheld_as(ground: str, note: str | None) -> str:
    """What stands in the subject's answer for a passage withheld on `ground`."""
    return GROUNDS[ground].short or (note or "")


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
    # numbers, account IPs), kept even when the finding itself is not: cleared by the
    # `findings` retention rule (dsr/retention).
    identity: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    # What the source was searched by: identity keys and how many of each (never the values).
    searched: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # How the collection was started, so that a retry asks the same way: the dotted name of
    # what narrows whom to ask and what to keep, and the trigger fired once all answered.
    scope: Mapped[str | None] = mapped_column(String(200))
    follow_up: Mapped[str | None] = mapped_column(String(64))


class FoundItem(Base):
    """One finding stored for a request: personal data, deleted by the `findings` retention rule
    once the answer has been downloadable for REPORT_AVAILABLE_DAYS."""

    __tablename__ = "found_items"
    # In the answer's order: a source's findings by kind, each kind by date.
    __table_args__ = (Index("ix_found_items_answer", "request_id", "source", "category",
                            "dated"),)

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
    # The record's date as its context gives it (record_date), or "": the answer lists
    # activity newest first, in the database's order.
    dated: Mapped[str] = mapped_column(String(10), default="", server_default="")
    # Left out of the answer whole by staff at review, on a ground of GROUNDS; the note says
    # why (for "other", it is the reason the subject reads). Personal data, never audited.
    withheld_ground: Mapped[str | None] = mapped_column(String(32))
    withheld_note: Mapped[str | None] = mapped_column(Text)
    # Passages staff hide from the subject at review: {"passage", "ground", "note"} each.
    redactions: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)

    @property
    def withheld(self) -> bool:
        """Tell whether staff left the whole finding out of the answer."""
        return self.withheld_ground is not None

    def texts(self) -> list[str]:
        """The finding's value and details, where a passage to withhold is looked for."""
        return [self.value, *map(str, self.context.values())]

    def as_answered(self) -> tuple[str, dict[str, Any]]:
        """The value and details as the subject reads them."""
        return answered(self.value, self.context, self.redactions)


def answered(value: str, context: dict[str, Any], redactions: list[dict[str, str]]
             ) -> tuple[str, dict[str, Any]]:
    """A finding's value and details as the subject reads them: each passage staff withheld
    replaced by what says why."""
    context = dict(context)
    for part in redactions:
        shown = f"[withheld: {withheld_as(part['ground'], part.get('note', ''))}]"
        value = value.replace(part["passage"], shown)
        context = {key: text.replace(part["passage"], shown) if isinstance(text, str)
                   else text for key, text in context.items()}
    return value, context
