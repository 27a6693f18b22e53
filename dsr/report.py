"""The answer to an access request (GDPR Art. 15): a summary, then every finding by the system
that holds it, beside that system's facts from the processing register; where dsr looked and
with what; the subject's rights.

The answer is compiled once, at release, into plain data (kept on the request, served as JSON),
and `view()` arranges that data for the page and the PDF, so all formats say the same.
"""

import csv
import io
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any

from flask import current_app
from sqlalchemy import Text, and_, cast, func, or_, select

from dsr import disclosures
from dsr.adapters import IDENTIFIERS, identification_notes, searched_by
from dsr.adapters.redaction import ANOTHER_PERSON
from dsr.adapters.registry import configured
from dsr.categories import Category, mask
from dsr.collection import runs_of
from dsr.database import utcnow
from dsr.extensions import db
from dsr.models import FoundItem, Request
from dsr.models.collection import GROUNDS, answered, record_date, withheld_because
from dsr.text import csv_cell

RIGHTS = [
    "to have inaccurate personal information corrected and incomplete information completed "
    "(Art. 16)",
    "to have personal information erased where the law allows (Art. 17)",
    "to have its processing restricted (Art. 18)",
    "to object to processing based on legitimate interests (Art. 21)",
    "to complain to a data-protection supervisory authority (Art. 77), and to a judicial "
    "remedy (Art. 79)",
]
AUTHORITIES = ("Public authorities that receive personal information in a particular inquiry "
               "under the law are not recipients (Art. 4(9)) and are not listed among them.")
DISCLOSED = ("The law required us to disclose information about you to these public "
             "authorities, in particular inquiries. They are not recipients in the sense of "
             "GDPR Art. 4(9); we list them because we may now tell you.")
GONE = "Not stated: this system is no longer among those we search."
# Activity of a kind is drawn as counts per month from this many records on.
CHART_FROM = 12
# Findings are read from the database, and written out, this many at a time.
STREAM_ROWS = 1000
REGISTER_FACTS = ("purposes", "legal_basis", "retention", "recipients", "origin", "transfers",
                  "safeguards", "automated_decisions")
CSV_COLUMNS = ["category", "what", "value", "system", "date", "details", "purposes",
               "legal basis", "kept", "recipients", "where it came from",
               "transfers outside the EEA", "automated decisions"]


def account_ids(case: Request) -> set[str]:
    """The customer numbers the request's identifying sources found for the subject."""
    identifying = [and_(FoundItem.source == name, FoundItem.record_kind == source.identifies)
                   for name, source in configured().items() if source.identifies]
    if not identifying:
        return set()
    return set(db.session.execute(select(FoundItem.record_key).distinct().where(
        FoundItem.request_id == case.id, or_(*identifying))).scalars())


def withheld_reasons(grounds: Iterable[tuple[str, str | None]]) -> list[dict[str, Any]]:
    """How many items were withheld for each reason the answer gives, in order of GROUNDS."""
    counts = Counter((ground, withheld_because(ground, note)) for ground, note in grounds)
    order = list(GROUNDS)
    return [{"ground": ground, "reason": reason, "count": count}
            for (ground, reason), count in sorted(counts.items(),
                                                  key=lambda c: (order.index(c[0][0]), c[0][1]))]


def _kinds(case: Request, order: list[str]) -> dict[str, list[dict[str, Any]]]:
    """For each source, the kinds of what it holds in the vocabulary's order, each with its
    count and its count per month ("" for undated records), counted by the database."""
    month = func.substr(FoundItem.dated, 1, 7)
    rows = db.session.execute(
        select(FoundItem.source, FoundItem.category, month, func.count())
        .where(FoundItem.request_id == case.id, FoundItem.withheld_ground.is_(None))
        .group_by(FoundItem.source, FoundItem.category, month))
    counted: dict[tuple[str, str], Counter[str]] = {}
    for source, category, yyyy_mm, count in rows:
        counted.setdefault((source, category), Counter())[yyyy_mm] += count
    rank = {category.value: position for position, category in enumerate(Category)}
    kinds: dict[str, list[dict[str, Any]]] = {}
    for (source, category), months in sorted(counted.items(), key=lambda kind: (
            order.index(kind[0][0]) if kind[0][0] in order else len(order),
            rank.get(kind[0][1], len(rank)))):
        kinds.setdefault(source, []).append({
            "category": category, "count": sum(months.values()),
            "months": {m: n for m, n in sorted(months.items()) if m}})
    return kinds


def _answered(request_id: int) -> Any:
    """The findings of a request that its answer lists (not withheld whole)."""
    return and_(FoundItem.request_id == request_id, FoundItem.withheld_ground.is_(None))


def compile_report(case: Request, generated_at: datetime | None = None) -> dict[str, Any]:
    """Build the answer of a request from what collection stored and the register: what it
    says of every finding (how many, of which kind, from when, per system), counted by the
    database; the findings themselves stay where collection stored them, and `Answer` reads
    them in the answer's order."""
    sources = configured()
    runs = runs_of(case)
    order = list(sources)
    kinds = _kinds(case, order)

    def searched_with(name: str) -> list[dict[str, Any]]:
        run = runs.get(name)
        return [{"key": key, "label": IDENTIFIERS[key], "count": count}
                for key, count in (run.searched if run else {}).items() if key in IDENTIFIERS]

    used = {key for run in runs.values() for key in run.searched}
    usable = {key for source in sources.values() for key in searched_by(source.adapter)}
    systems = [
        {
            "name": name,
            "title": source.title,
            "found": sum(kind["count"] for kind in kinds.get(name, [])),
            "categories": sorted(kind["category"] for kind in kinds.get(name, [])),
            "kinds": kinds.get(name, []),
            # What it was searched by: the answer says where it looked, and with what.
            "searched_with": searched_with(name),
            **{fact: getattr(source.register, fact) for fact in REGISTER_FACTS
               if fact != "recipients"},
            "recipients": source.register.recipient_names,
        }
        for name, source in sources.items()
    ] + [
        # A source no longer configured still answers for what it was found to hold.
        {"name": name, "title": name, "found": sum(kind["count"] for kind in held),
         "categories": sorted(kind["category"] for kind in held), "kinds": held,
         "searched_with": searched_with(name), "recipients": [], "purposes": [],
         **{fact: GONE for fact in REGISTER_FACTS if fact not in ("recipients", "purposes")}}
        for name, held in kinds.items() if name not in sources
    ]
    present = {kind["category"] for system in kinds.values() for kind in system}
    oldest = db.session.execute(select(func.min(FoundItem.dated)).where(
        _answered(case.id), FoundItem.dated != "")).scalar()
    withheld = db.session.execute(
        select(FoundItem.withheld_ground, FoundItem.withheld_note)
        .where(FoundItem.request_id == case.id, FoundItem.withheld_ground.is_not(None))).all()
    in_part = db.session.execute(select(FoundItem.redactions).where(
        _answered(case.id), cast(FoundItem.redactions, Text) != "[]")).scalars()
    others = db.session.execute(select(FoundItem.id).where(
        _answered(case.id), or_(FoundItem.value.contains(ANOTHER_PERSON, autoescape=True),
                             cast(FoundItem.context, Text).contains(ANOTHER_PERSON,
                                                                    autoescape=True))
    ).limit(1)).first()
    return {
        "reference": case.reference,
        "generated_at": (generated_at or utcnow()).isoformat(),
        "received_at": case.received_at.isoformat(),
        "subject": {"name": case.requester_name, "email": case.requester_email},
        "controller": current_app.config.get("CONTROLLER"),
        "summary": {
            "findings": sum(system["found"] for system in systems),
            "systems_holding": sum(1 for s in systems if s["found"]),
            "systems_searched": sum(1 for s in systems if s["searched_with"]),
            "since": oldest,
            "categories": [c.label for c in Category if c.value in present],
        },
        "systems": systems,
        # What staff withheld, by the reason given: whole items, and items shown in part.
        "withheld": withheld_reasons((ground, note) for ground, note in withheld),
        "withheld_in_part": withheld_reasons(
            pair for parts in in_part for pair in {(p["ground"], p.get("note")) for p in parts}),
        "others_taken_out": others is not None,
        # Keys some system is searched by that dsr knew none of for this subject: the answer
        # must not say that nothing is held where it could not look.
        "not_searched": [label for key, label in IDENTIFIERS.items()
                         if key in usable - used],
        # What more would let a system tell the subject's records from other people's, as
        # its adapter said it (GDPR Art. 11(2)).
        "identification": list(dict.fromkeys(
            note for run in runs.values() for note in identification_notes(run.warnings))),
        # Only disclosures the subject has been told of: a gag order restricts the rest.
        "disclosures": disclosures.told(case, account_ids(case)),
        "disclosed_note": DISCLOSED,
        "rights": RIGHTS,
        # As each system's register entry declares it (Art. 15(1)(h)); never assumed.
        "automated_decision_making": " ".join(dict.fromkeys(
            source.register.automated_decisions for source in sources.values())),
        "authorities": AUTHORITIES,
    }


class Answer:
    """An answer to read: its header as compiled (the summary, the systems and the kinds of
    what each holds), and its findings in the answer's order, read from the database a part
    at a time (answers released before findings stayed in place carry them in the header).
    Masked: ID and bank details masked, as staff see them until they reveal them."""

    def __init__(self, case: Request, header: dict[str, Any], *, masked: bool = False) -> None:
        # The request's number only: a streamed page reads on after the view's session ended.
        self.request_id, self.masked = case.id, masked
        self.header = current(header)
        self._inline: list[dict[str, Any]] | None = self.header.get("findings")
        if self._inline is not None:
            self.header = {**self.header, "systems": [
                {**system, "kinds": _inline_kinds(self._inline, system["name"])}
                for system in self.header.get("systems", [])]}

    @classmethod
    def released(cls, case: Request) -> "Answer":
        """The answer as the request released it."""
        return cls(case, case.answer or {})

    @property
    def kinds(self) -> list[tuple[str, dict[str, Any], int]]:
        """Each source's kinds in the answer's order, with the number of the kind's first
        finding in the whole answer."""
        out, start = [], 0
        for system in self.header.get("systems", []):
            for kind in system["kinds"]:
                out.append((system["name"], kind, start))
                start += kind["count"]
        return out

    def findings(self, source: str | None = None, category: str | None = None,
                 limit: int | None = None) -> Iterator[dict[str, Any]]:
        """The findings (of one source's kind, if given; at most `limit` of each kind), in
        the answer's order, each numbered by its place in the whole answer."""
        for name, kind, start in self.kinds:
            if source in (None, name) and category in (None, kind["category"]):
                for finding in self._of_kind(name, kind["category"], start, limit):
                    yield {**finding, "value": mask(finding["value"])} \
                        if self.masked and Category(finding["category"]).masked else finding

    def finding(self, n: int) -> dict[str, Any] | None:
        """Finding number `n` of the answer, if there is one."""
        for name, kind, start in self.kinds:
            if start <= n < start + kind["count"]:
                return next(self._of_kind(name, kind["category"], start, 1, n - start), None)
        return None

    def _of_kind(self, source: str, category: str, start: int, limit: int | None,
                 skip: int = 0) -> Iterator[dict[str, Any]]:
        if self._inline is not None:
            own = (f for f in self._inline if f["source"] == source and f["category"] == category)
            yield from islice(own, skip, None if limit is None else skip + limit)
            return
        rows = db.session.execute(
            select(FoundItem.label, FoundItem.value, FoundItem.context, FoundItem.redactions,
                   FoundItem.dated)
            .where(_answered(self.request_id), FoundItem.source == source,
                   FoundItem.category == category)
            .order_by(FoundItem.dated.desc(), FoundItem.id).offset(skip).limit(limit)
            .execution_options(yield_per=STREAM_ROWS))
        for n, (label, value, context, redactions, date) in enumerate(rows, start + skip):
            value, context = answered(value, context, redactions)
            yield {"n": n, "category": category, "label": label, "value": value,
                   "source": source, "date": date, "context": context}


def _inline_kinds(findings: list[dict[str, Any]], source: str) -> list[dict[str, Any]]:
    """The kinds of what a source holds, counted from an answer that carries its findings."""
    rank = {category.value: position for position, category in enumerate(Category)}
    counted: dict[str, Counter[str]] = {}
    for f in findings:
        if f["source"] == source:
            counted.setdefault(f["category"], Counter())[f["date"][:7]] += 1
    return [{"category": category, "count": sum(months.values()),
             "months": {m: n for m, n in sorted(months.items()) if m}}
            for category, months in sorted(counted.items(),
                                           key=lambda c: rank.get(c[0], len(rank)))]


def _months(counts: dict[str, int]) -> list[dict[str, Any]]:
    """Counts per month (YYYY-MM), oldest first, each with its share of the busiest month."""
    top = max(counts.values(), default=1)
    return [{"month": month, "label": datetime.strptime(month, "%Y-%m").strftime("%b %Y"),
             "count": count, "share": round(100 * count / top)}
            for month, count in sorted(counts.items())]


def current(report: dict[str, Any]) -> dict[str, Any]:
    """An answer released before answers had systems and a summary (findings by category,
    sources by key), in today's shape; today's answers as they are."""
    if "findings" in report or "categories" not in report:
        return report
    findings = [{**f, "n": n, "date": record_date(f.get("context", {}))}
                for n, f in enumerate(f for group in report["categories"]
                                      for f in group["findings"])]
    systems = [{**s, "title": s["name"], "found": s.get("findings", 0),
                "searched_with": s.get("searched_with", [])}
               for s in report.get("sources", [])]
    dates = sorted(f["date"] for f in findings if f["date"])
    withheld = report.get("withheld", 0)
    return {**report, "findings": findings, "systems": systems, "summary": {
        "findings": len(findings), "systems_holding": sum(1 for s in systems if s["found"]),
        "systems_searched": sum(1 for s in systems if s.get("searched_with")),
        "since": dates[0] if dates else None,
        "categories": [group["label"] for group in report["categories"]]},
        "withheld": withheld if isinstance(withheld, list) else [
            {"ground": "another_person", "count": withheld,
             "reason": withheld_because("another_person", None)}] if withheld else [],
        "withheld_in_part": report.get("withheld_in_part", []),
        "others_taken_out": report.get("others_taken_out", False)}


class _Findings:
    """A kind's findings for a template: read from the database each time it is iterated."""

    def __init__(self, answer: Answer, source: str, category: str, limit: int | None) -> None:
        self.answer, self.source, self.category, self.limit = answer, source, category, limit

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self.answer.findings(self.source, self.category, self.limit)


def view(answer: Answer, listed: int | None = None) -> dict[str, Any]:
    """Arrange an answer for reading: the systems that hold something, each with its facts
    and its findings by kind (at most `listed` of each kind of activity, the newest, where
    given; counts per month where there are many); the others as searched with nothing
    found, or not searched."""
    held: list[dict[str, Any]] = []
    empty: list[dict[str, Any]] = []
    unsearched: list[dict[str, Any]] = []
    for system in answer.header.get("systems", []):
        if not system["kinds"]:
            (empty if system["searched_with"] else unsearched).append(system)
            continue
        groups = []
        for kind in system["kinds"]:
            category = Category(kind["category"])
            limit = listed if category.is_activity else None
            groups.append({
                "category": category.value, "label": category.label,
                "activity": category.is_activity, "count": kind["count"],
                "findings": _Findings(answer, system["name"], category.value, limit),
                "left_out": max(0, kind["count"] - limit) if limit is not None else 0,
                "months": _months(kind["months"]) if category.is_activity
                and kind["count"] >= CHART_FROM else [],
            })
        held.append({**system, "groups": groups})
    return {"held": held, "empty": empty, "unsearched": unsearched}


def as_csv(answer: Answer) -> Iterator[str]:
    """One row per finding, with the facts of the system that holds it, a part at a time."""
    systems = {s["name"]: s for s in answer.header.get("systems", [])}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for n, f in enumerate(answer.findings(), 1):
        system = systems.get(f["source"], {})
        details = "; ".join(f"{k}: {v}" for k, v in f["context"].items())
        writer.writerow([csv_cell(cell) for cell in [
            Category(f["category"]).label, f["label"], f["value"],
            system.get("title", f["source"]), f["date"], details,
            "; ".join(system.get("purposes", [])), system.get("legal_basis", ""),
            system.get("retention", ""), "; ".join(system.get("recipients", [])),
            system.get("origin", ""),
            " ".join(filter(None, [system.get("transfers"), system.get("safeguards")])),
            system.get("automated_decisions", ""),
        ]])
        if n % STREAM_ROWS == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def as_json(answer: Answer) -> Iterator[str]:
    """The answer as one JSON document, its findings last, a part at a time."""
    dumps = current_app.json.dumps
    header = {key: value for key, value in answer.header.items() if key != "findings"}
    opening = dumps(header, indent=2)
    yield opening[:-2] + ',\n  "findings": ['
    part: list[str] = []
    for n, finding in enumerate(answer.findings()):
        part.append(("\n    " if n == 0 else ",\n    ") + dumps(finding))
        if len(part) == STREAM_ROWS:
            yield "".join(part)
            part = []
    yield "".join(part) + ("\n  ]\n}\n" if answer.header["summary"]["findings"] else "]\n}\n")
