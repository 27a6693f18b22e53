"""What the sources hold past their stated retention, as dsr last counted it: by source and
kind of record, counts only (which records, dsr never asks). dsr never deletes in a source."""

from datetime import date, datetime

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from dsr.database import Base, UTCDateTime, utcnow


class AgedRecords(Base):
    """One count: how many records of one kind a source holds from before `older_than` (none:
    of any age, where the source does not date that kind), or, with `error`, why the source
    could not say (an adapter's message: no personal data)."""

    __tablename__ = "aged_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(200))
    count: Mapped[int] = mapped_column(default=0)
    older_than: Mapped[date | None] = mapped_column(Date)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    error: Mapped[str | None] = mapped_column(String(400))
