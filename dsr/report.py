"""The answer to an access request (GDPR Art. 15): every finding by category and by activity,
each with its source, and for each source the facts of its processing-register entry."""

import csv
import io
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from dsr import disclosures
from dsr.adapters import IDENTIFIERS, searched_by
from dsr.adapters.redaction import ANOTHER_PERSON
from dsr.adapters.registry import configured
from dsr.categories import Category
from dsr.collection import found_items, runs_of
from dsr.database import utcnow
from dsr.models import FoundItem, Request
from dsr.models.collection import GROUNDS, withheld_because

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


def account_ids(case: Request) -> set[str]:
    """The customer numbers the request's identifying sources found for the subject."""
    sources = configured()
    return {item.record_key for item in found_items(case)
            if (source := sources.get(item.source)) and source.identifies == item.record_kind}


def withheld_reasons(grounds: Iterable[tuple[str, str | None]]) -> list[dict[str, Any]]:
    """How many items were withheld for each reason the answer gives, in order of GROUNDS."""
    counts = Counter((ground, withheld_because(ground, note)) for ground, note in grounds)
    order = list(GROUNDS)
    return [{"ground": ground, "reason": reason, "count": count}
            for (ground, reason), count in sorted(counts.items(),
                                                  key=lambda c: (order.index(c[0][0]), c[0][1]))]


def compile_report(case: Request, generated_at: datetime | None = None) -> dict[str, Any]:
    """Build the report of a request from what collection stored and the register."""
    every = found_items(case)
    items = [item for item in every if not item.withheld]
    sources = configured()
    runs = runs_of(case)

    def searched_with(name: str) -> list[dict[str, Any]]:
        run = runs.get(name)
        return [{"key": key, "label": IDENTIFIERS[key], "count": count}
                for key, count in (run.searched if run else {}).items() if key in IDENTIFIERS]

    used = {key for run in runs.values() for key in run.searched}
    usable = {key for source in sources.values() for key in searched_by(source.adapter)}
    by_source: dict[str, list[FoundItem]] = {}
    for item in items:
        by_source.setdefault(item.source, []).append(item)

    def finding(item: FoundItem) -> dict[str, Any]:
        value, context = item.as_answered()
        return {"category": item.category, "label": item.label, "value": value,
                "source": item.source, "context": context}

    return {
        "reference": case.reference,
        "generated_at": (generated_at or utcnow()).isoformat(),
        "received_at": case.received_at.isoformat(),
        "subject": {"name": case.requester_name, "email": case.requester_email},
        "categories": [
            {"category": c.value, "label": c.label,
             "findings": [finding(i) for i in items if i.category == c.value]}
            for c in Category if any(i.category == c.value for i in items)
        ],
        "sources": [
            {
                "name": name,
                "purposes": source.register.purposes,
                "legal_basis": source.register.legal_basis,
                "recipients": source.register.recipient_names,
                "retention": source.register.retention,
                "origin": source.register.origin,
                "transfers": source.register.transfers,
                "safeguards": source.register.safeguards,
                "automated_decisions": source.register.automated_decisions,
                "categories": sorted({i.category for i in by_source.get(name, [])}),
                "findings": len(by_source.get(name, [])),
                # What it was searched by: the answer says where it looked, and with what.
                "searched_with": searched_with(name),
            }
            for name, source in sorted(sources.items())
        ],
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
        # Only disclosures the subject has been told of: a gag order restricts the rest.
        "disclosures": disclosures.told(case, account_ids(case)),
        "disclosed_note": DISCLOSED,
        "rights": RIGHTS,
        # As each system's register entry declares it (Art. 15(1)(h)); never assumed.
        "automated_decision_making": " ".join(dict.fromkeys(
            source.register.automated_decisions for _, source in sorted(sources.items()))),
        "authorities": AUTHORITIES,
    }


def as_csv(report: dict[str, Any]) -> str:
    """One row per finding: category, what, value, source and its details."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["category", "what", "value", "source", "details"])
    for group in report["categories"]:
        for f in group["findings"]:
            details = "; ".join(f"{k}: {v}" for k, v in f["context"].items())
            writer.writerow([group["label"], f["label"], f["value"], f["source"], details])
    return out.getvalue()
