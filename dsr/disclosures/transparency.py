"""The transparency report: disclosure requests counted from the register (never typed in) per
period, instrument, country and outcome, with the accounts affected, as transparency reports
of hosting providers publish them."""

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import select

from dsr.disclosures import INSTRUMENTS, OUTCOMES, outcome
from dsr.extensions import db
from dsr.models import Disclosure, Request


@dataclass
class Tally:
    """Requests and affected accounts, by outcome."""

    requests: int = 0
    accounts: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))

    def add(self, result: str, accounts: int) -> None:
        self.requests += 1
        self.accounts += accounts
        self.outcomes[result] += 1


@dataclass
class Report:
    """One year's counts: in total, per period (quarter or year), instrument and country."""

    year: int
    by: str
    total: Tally = field(default_factory=Tally)
    periods: dict[str, Tally] = field(default_factory=dict)
    instruments: dict[str, Tally] = field(default_factory=dict)
    countries: dict[str, Tally] = field(default_factory=dict)
    pending: int = 0
    rows: list[tuple[str, str, str, str, int]] = field(default_factory=list)


def period_of(day: date, by: str) -> str:
    """The period a day falls in: "2026" or "2026-Q3"."""
    return str(day.year) if by == "year" else f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def compile_report(year: int, by: str = "quarter") -> Report:
    """Count the register's disclosure requests received in `year`. Requests not decided yet
    are counted apart, as pending."""
    report = Report(year, by)
    periods = [str(year)] if by == "year" else [f"{year}-Q{q}" for q in range(1, 5)]
    report.periods = {p: Tally() for p in periods}
    rows = db.session.execute(
        select(Request, Disclosure).join(Disclosure, Disclosure.request_id == Request.id)
        .where(Request.received_at >= datetime(year, 1, 1, tzinfo=UTC),
               Request.received_at < datetime(year + 1, 1, 1, tzinfo=UTC))
        .order_by(Request.received_at)).all()
    for case, record in rows:
        result = outcome(case, record)
        if result is None:
            report.pending += 1
            continue
        accounts = record.accounts if result in ("all data", "some data") else 0
        period = period_of(case.received_at.date(), by)
        for tally in (report.total, report.periods[period],
                      report.instruments.setdefault(record.instrument, Tally()),
                      report.countries.setdefault(record.country, Tally())):
            tally.add(result, accounts)
        report.rows.append((period, INSTRUMENTS[record.instrument], record.country, result,
                            accounts))
    return report


def as_csv(report: Report) -> str:
    """One row per period, instrument, country and outcome, with requests and accounts."""
    counts: dict[tuple[str, str, str, str], list[int]] = {}
    for period, instrument, country, result, accounts in report.rows:
        tally = counts.setdefault((period, instrument, country, result), [0, 0])
        tally[0] += 1
        tally[1] += accounts
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["period", "instrument", "country", "outcome", "requests",
                     "accounts_affected"])
    for key, (requests, accounts) in sorted(counts.items()):
        writer.writerow([*key, requests, accounts])
    return out.getvalue()


def chart(report: Report, width: int = 640, height: int = 240) -> list[dict[str, object]]:
    """Stacked bars per period, one segment per outcome, in SVG coordinates: what the page's
    inline SVG draws (no script needed to read it)."""
    tallest = max((t.requests for t in report.periods.values()), default=0) or 1
    slot = width / max(len(report.periods), 1)
    bars: list[dict[str, object]] = []
    for index, (period, tally) in enumerate(report.periods.items()):
        top = float(height)
        segments = []
        for result in OUTCOMES:
            count = tally.outcomes[result]
            size = height * count / tallest
            top -= size
            if count:
                segments.append({"outcome": result, "count": count, "y": round(top, 1),
                                 "height": round(size, 1)})
        bars.append({"period": period, "x": round(index * slot + slot * 0.2, 1),
                     "width": round(slot * 0.6, 1), "segments": segments,
                     "requests": tally.requests})
    return bars
