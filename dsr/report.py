"""The answer to an access request (GDPR Art. 15): a summary, then every finding by the system
that holds it, beside that system's facts from the processing register; where dsr looked and
with what; the subject's rights.

The answer is compiled once, at release, into plain data (kept on the request, served as JSON),
and `view()` arranges that data for the page and the PDF, so all formats say the same.
"""

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import current_app

from dsr import disclosures
from dsr.adapters import IDENTIFIERS, identification_notes, searched_by
from dsr.adapters.redaction import ANOTHER_PERSON
from dsr.adapters.registry import configured
from dsr.categories import Category, mask
from dsr.collection import found_items, runs_of
from dsr.database import utcnow
from dsr.models import FoundItem, Request
from dsr.models.collection import GROUNDS, withheld_because
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
# Context keys that date a record, most telling first, as the adapters write them.
DATE_KEYS = ("date", "opened", "created", "started", "sent", "dateline", "first_seen",
             "last_seen")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Activity of a kind is drawn as counts per month from this many records on.
CHART_FROM = 12
REGISTER_FACTS = ("purposes", "legal_basis", "retention", "recipients", "origin", "transfers",
                  "safeguards", "automated_decisions")
CSV_COLUMNS = ["category", "what", "value", "system", "date", "details", "purposes",
               "legal basis", "kept", "recipients", "where it came from",
               "transfers outside the EEA", "automated decisions"]


def account_ids(case: Request) -> set[str]:
    """The customer numbers the request's identifying sources found for the subject."""
    sources = configured()
    return {item.record_key for item in found_items(case)
            if (source := sources.get(item.source)) and source.identifies == item.record_kind}


def dated(context: dict[str, Any]) -> str:
    """The date (YYYY-MM-DD) a record's context gives, or "" for an undated one."""
    for key in DATE_KEYS:
        if match := _DATE.match(str(context.get(key, ""))):
            return match.group(0)
    for value in context.values():
        if match := _DATE.match(str(value)):
            return match.group(0)
    return ""


def _ordered(items: list[FoundItem], order: list[str]) -> list[FoundItem]:
    """Findings by system (in the configured order), facts before activity in the
    vocabulary's order, and activity newest first."""
    rank = {category.value: position for position, category in enumerate(Category)}
    by_date = sorted(items, key=lambda item: dated(item.context), reverse=True)
    return sorted(by_date, key=lambda item: (
        order.index(item.source) if item.source in order else len(order),
        rank.get(item.category, len(rank))))


def withheld_reasons(grounds: Iterable[tuple[str, str | None]]) -> list[dict[str, Any]]:
    """How many items were withheld for each reason the answer gives, in order of GROUNDS."""
    counts = Counter((ground, withheld_because(ground, note)) for ground, note in grounds)
    order = list(GROUNDS)
    return [{"ground": ground, "reason": reason, "count": count}
            for (ground, reason), count in sorted(counts.items(),
                                                  key=lambda c: (order.index(c[0][0]), c[0][1]))]


def compile_report(case: Request, generated_at: datetime | None = None) -> dict[str, Any]:
    """Build the answer of a request from what collection stored and the register."""
    every = found_items(case)
    items = [item for item in every if not item.withheld]
    sources = configured()
    runs = runs_of(case)
    order = list(sources)

    def searched_with(name: str) -> list[dict[str, Any]]:
        run = runs.get(name)
        return [{"key": key, "label": IDENTIFIERS[key], "count": count}
                for key, count in (run.searched if run else {}).items() if key in IDENTIFIERS]

    used = {key for run in runs.values() for key in run.searched}
    usable = {key for source in sources.values() for key in searched_by(source.adapter)}
    found = Counter(item.source for item in items)
    findings = [
        {"n": n, "category": item.category, "label": item.label, "value": value,
         "source": item.source, "date": dated(item.context), "context": context}
        for n, item in enumerate(_ordered(items, order))
        for value, context in [item.as_answered()]
    ]
    dates = sorted(str(f["date"]) for f in findings if f["date"])
    systems = [
        {
            "name": name,
            "title": source.title,
            "found": found[name],
            "categories": sorted({f["category"] for f in findings if f["source"] == name}),
            # What it was searched by: the answer says where it looked, and with what.
            "searched_with": searched_with(name),
            **{fact: getattr(source.register, fact) for fact in REGISTER_FACTS
               if fact != "recipients"},
            "recipients": source.register.recipient_names,
        }
        for name, source in sources.items()
    ]
    return {
        "reference": case.reference,
        "generated_at": (generated_at or utcnow()).isoformat(),
        "received_at": case.received_at.isoformat(),
        "subject": {"name": case.requester_name, "email": case.requester_email},
        "controller": current_app.config.get("CONTROLLER"),
        "summary": {
            "findings": len(findings),
            "systems_holding": sum(1 for s in systems if s["found"]),
            "systems_searched": sum(1 for s in systems if s["searched_with"]),
            "since": dates[0] if dates else None,
            "categories": [c.label for c in Category
                           if any(f["category"] == c.value for f in findings)],
        },
        "findings": findings,
        "systems": systems,
        # What staff withheld, by the reason given: whole items, and items shown in part.
        "withheld": withheld_reasons((i.withheld_ground, i.withheld_note) for i in every
                                     if i.withheld_ground),
        "withheld_in_part": withheld_reasons(
            pair for i in items for pair in {(p["ground"], p.get("note")) for p in i.redactions}),
        "others_taken_out": any(ANOTHER_PERSON in text for i in items for text in i.texts()),
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


def masked(report: dict[str, Any]) -> dict[str, Any]:
    """The answer with the values staff see masked (ID and bank details) masked."""
    return {**report, "findings": [
        {**f, "value": mask(f["value"])} if Category(f["category"]).masked else f
        for f in report.get("findings", [])]}


def _months(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Counts per month, oldest first, each with its share of the busiest month."""
    counts = Counter(f["date"][:7] for f in findings if f["date"])
    top = max(counts.values(), default=1)
    return [{"month": month, "label": datetime.strptime(month, "%Y-%m").strftime("%b %Y"),
             "count": count, "share": round(100 * count / top)}
            for month, count in sorted(counts.items())]


def current(report: dict[str, Any]) -> dict[str, Any]:
    """An answer released before answers had systems and a summary (findings by category,
    sources by key), in today's shape; today's answers as they are."""
    if "findings" in report or "categories" not in report:
        return report
    findings = [{**f, "n": n, "date": dated(f.get("context", {}))}
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


def view(report: dict[str, Any]) -> dict[str, Any]:
    """Arrange a compiled answer for reading: the systems that hold something, each with its
    facts and its activity by kind (counts per month where there is much); the others as
    searched with nothing found, or not searched."""
    findings = report.get("findings", [])
    held: list[dict[str, Any]] = []
    empty: list[dict[str, Any]] = []
    unsearched: list[dict[str, Any]] = []
    for system in report.get("systems", []):
        own = [f for f in findings if f["source"] == system["name"]]
        if not own:
            (empty if system["searched_with"] else unsearched).append(system)
            continue
        groups = []
        for category in Category:
            of_kind = [f for f in own if f["category"] == category.value]
            if of_kind:
                groups.append({
                    "category": category.value, "label": category.label,
                    "activity": category.is_activity, "findings": of_kind,
                    "months": _months(of_kind) if category.is_activity
                    and len(of_kind) >= CHART_FROM else [],
                })
        held.append({**system, "groups": groups})
    return {"held": held, "empty": empty, "unsearched": unsearched}


def as_csv(report: dict[str, Any]) -> str:
    """One row per finding, with the facts of the system that holds it."""
    report = current(report)
    systems = {s["name"]: s for s in report.get("systems", [])}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for f in report.get("findings", []):
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
    return out.getvalue()
