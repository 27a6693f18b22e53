"""What the sources hold past the retention their register entries state: each source that
states it in days (retention_days) and can tell the age of its records (an adapter with
`aged`) is asked how many records it dates before that, by kind. The counts are kept for the
admin's report; dsr never deletes in a source (that is the company's to do)."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import delete, select

from dsr.adapters import AgedRecords as CanTellAge
from dsr.adapters import SourceError
from dsr.adapters.registry import OWN, Source, configured
from dsr.database import utcnow
from dsr.extensions import db
from dsr.models import AgedRecords


def past_it(row: AgedRecords) -> str:
    """A count as the report reads it."""
    if row.older_than is None:
        return f"{row.count}, of any age (the source does not say how old; check each)"
    return f"{row.count} from before {row.older_than:%-d %B %Y}"


@dataclass(frozen=True)
class SourceAge:
    """One source as the report shows it: its stated retention, and what it holds past it
    as last counted (`counts` empty and `why` set where it cannot be counted)."""

    source: Source
    counts: list[AgedRecords]
    why: str = ""

    @property
    def error(self) -> str | None:
        return next((row.error for row in self.counts if row.error), None)


def _cannot_count(source: Source) -> str:
    if source.name == OWN:
        return "dsr's own records are kept by the rules above."
    if not isinstance(source.adapter, CanTellAge):
        return "Its adapter cannot tell the age of its records."
    if source.register.retention_days is None:
        return "Its register entry states no retention in days (retention_days)."
    return ""


def count(source: Source, today: date) -> list[AgedRecords]:
    """Ask one source what it holds past its retention; keep the answer (or why it gave
    none) in place of the last one, uncommitted."""
    days = source.register.retention_days
    assert days is not None and isinstance(source.adapter, CanTellAge)
    older_than = today - timedelta(days=days)
    undated: frozenset[str] = getattr(source.adapter, "undated", frozenset())
    try:
        rows = [AgedRecords(source=source.name, kind=kind, count=n,
                            older_than=None if kind in undated else older_than)
                for kind, n in source.adapter.aged(older_than).items()]
    except SourceError as error:
        rows = [AgedRecords(source=source.name, kind="", older_than=older_than,
                            error=str(error)[:400])]
    db.session.execute(delete(AgedRecords).where(AgedRecords.source == source.name))
    db.session.add_all(rows)
    return rows


def count_all() -> list[SourceAge]:
    """Ask every source that can say what it holds past its retention; commit the counts."""
    today = utcnow().date()
    found = [SourceAge(source, count(source, today)) if not (why := _cannot_count(source))
             else SourceAge(source, [], why) for source in configured().values()]
    db.session.commit()
    return found


def last_counted() -> list[SourceAge]:
    """Every source with what was last counted of it (nothing yet, if never)."""
    kept: dict[str, list[AgedRecords]] = {}
    for row in db.session.execute(select(AgedRecords).order_by(AgedRecords.id)).scalars():
        kept.setdefault(row.source, []).append(row)
    return [SourceAge(source, kept.get(name, []), _cannot_count(source))
            for name, source in configured().items()]


def count_all_job() -> None:
    """The periodic job: count again what every source holds past its retention."""
    count_all()
