"""The answer to an access request (GDPR Art. 15): every finding by category and by activity,
each with its source, and for each source the facts of its processing-register entry."""

import csv
import io
from datetime import datetime
from typing import Any

from dsr import disclosures
from dsr.adapters import IDENTIFIERS, identification_notes, searched_by
from dsr.adapters.registry import configured
from dsr.categories import Category
from dsr.collection import found_items, runs_of
from dsr.database import utcnow
from dsr.models import FoundItem, Request

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
        return {"category": item.category, "label": item.label, "value": item.value,
                "source": item.source, "context": item.context}

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
        "withheld": len(every) - len(items),
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
