"""The lawful-disclosure register: what an authority asked for, what legal decided and
disclosed, and when the subject may be told (GDPR Art. 4(9) and 23). Each record extends a
Request of type "disclosure", whose workflow moves it; only the legal role reads them."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dsr.database import Base, UTCDateTime, utcnow


class Disclosure(Base):
    """One authority's request for data and everything legal did with it."""

    __tablename__ = "disclosures"

    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True)
    opened_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Intake: who asked, how, on what basis, for what.
    channel: Mapped[str] = mapped_column(String(32))
    authority: Mapped[str] = mapped_column(String(200))
    officer: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str] = mapped_column(String(2))
    authenticity_check: Mapped[str] = mapped_column(Text)
    authenticity_result: Mapped[str] = mapped_column(String(16))
    instrument: Mapped[str] = mapped_column(String(32), index=True)
    citation: Mapped[str] = mapped_column(String(300))
    emergency: Mapped[bool] = mapped_column(default=False)
    # [{"kind": "email" | "customer_id" | "ip" | "domain", "value": ...}]
    targets: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    range_from: Mapped[date | None] = mapped_column(Date)
    range_to: Mapped[date | None] = mapped_column(Date)
    data_types: Mapped[list[str]] = mapped_column(JSON)
    # Legal review: who approved, and what, if narrower than asked, and why.
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_targets: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    approved_types: Mapped[list[str] | None] = mapped_column(JSON)
    approved_from: Mapped[date | None] = mapped_column(Date)
    approved_to: Mapped[date | None] = mapped_column(Date)
    narrowing_reason: Mapped[str | None] = mapped_column(Text)
    # What was produced: the package (kept for legal to deliver), its manifest and hash.
    package: Mapped[bytes | None] = mapped_column(LargeBinary)
    package_sha256: Mapped[str | None] = mapped_column(String(64))
    manifest: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    accounts: Mapped[int] = mapped_column(default=0)
    delivery: Mapped[str | None] = mapped_column(String(32))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The subject: where they are told, whether a gag order holds that back, and until when.
    notify_email: Mapped[str | None] = mapped_column(String(254))
    gag_basis: Mapped[str | None] = mapped_column(Text)
    gag_until: Mapped[date | None] = mapped_column(Date)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The customers, e-mail addresses and IPs the record concerns, normalised, for telling an
    # access request by the same subject that it is restricted (Art. 23).
    subject_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    # When the `disclosures` retention rule purged the package, the documents and whom the
    # record concerns (dsr/disclosures/retention.py); who asked, on what basis, what kinds
    # of data and when stay, for the register and the transparency report.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DisclosureDocument(Base):
    """A document that came with the authority's request (the order, say): stored by its
    SHA-256 under the instance folder, never in a URL, and read only by legal (audited)."""

    __tablename__ = "disclosure_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"),
                                            index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
