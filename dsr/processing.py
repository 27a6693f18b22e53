"""The record of processing activities (GDPR Art. 30(1)): the controller, and one entry for
each source and for dsr's own handling of requests, every field of Art. 30(1) as declared,
for the supervisory authority on request (Art. 30(4))."""

import csv
import io
from typing import Any

from flask import current_app
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dsr.adapters.registry import OWN, RegisterEntry, configured
from dsr.demo import sources as demo
from dsr.settings import ConfigError
from dsr.text import csv_cell

# The columns of the export, in Art. 30(1)'s order, with the field each reads.
COLUMNS = [
    ("processing", "Processing"),
    ("controller", "Controller (Art. 30(1)(a))"),
    ("contact", "Controller's contact"),
    ("dpo", "Data-protection officer"),
    ("purposes", "Purposes (b)"),
    ("legal_basis", "Legal basis"),
    ("subjects", "Categories of data subjects (c)"),
    ("categories", "Categories of personal data (c)"),
    ("recipients", "Recipients (d)"),
    ("transfers", "Transfers to third countries (e)"),
    ("safeguards", "Safeguards of the transfers (e)"),
    ("retention", "Time limits for erasure (f)"),
    ("security", "Security measures (g)"),
    ("origin", "Where the data comes from"),
    ("automated_decisions", "Automated decisions (Art. 22)"),
]


class Controller(BaseModel):
    """Who is responsible for the processing (Art. 30(1)(a))."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    contact: str = Field(min_length=1)
    dpo: str | None = None


def _declared(setting: str, demo_value: dict[str, Any]) -> dict[str, Any]:
    value = current_app.config[setting] or (demo_value if current_app.config["DEMO"] else None)
    if not value:
        raise ConfigError(f"{setting} is not set: the register's export needs it (see "
                          "README.md, \"Sources\").")
    return dict(value)


def record() -> list[dict[str, str]]:
    """Every entry of the record, one per processing, each field as text ("" where the law
    asks for a field only where it applies). Raises ConfigError for what is not declared."""
    sources = configured()
    try:
        controller = Controller.model_validate(_declared("CONTROLLER", demo.CONTROLLER))
        # dsr's own processing is its source's entry, once; declared apart while it has none.
        own = sources[OWN].register if OWN in sources else RegisterEntry.model_validate(
            _declared("DSR_REGISTER", demo.DSR_REGISTER))
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"the register's {where}: {first['msg']}") from None
    entries = {"Requests about personal information (dsr)": own} | {
        f"{name} ({source.register.purposes[0]})": source.register
        for name, source in sorted(sources.items()) if name != OWN}
    return [_row(processing, controller, entry) for processing, entry in entries.items()]


def _row(processing: str, controller: Controller, entry: RegisterEntry) -> dict[str, str]:
    return {
        "processing": processing, "controller": controller.name,
        "contact": controller.contact, "dpo": controller.dpo or "",
        "purposes": "; ".join(entry.purposes), "legal_basis": entry.legal_basis,
        "subjects": "; ".join(entry.subjects),
        "categories": "; ".join(c.label for c in entry.categories),
        "recipients": "; ".join(entry.recipient_names) or "None",
        "transfers": entry.transfers, "safeguards": entry.safeguards or "",
        "retention": entry.retention, "security": entry.security or "",
        "origin": entry.origin, "automated_decisions": entry.automated_decisions,
    }


def as_csv(rows: list[dict[str, str]]) -> str:
    """The record as CSV, one row per processing, a header row of Art. 30(1)'s fields."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([title for _, title in COLUMNS])
    for row in rows:
        writer.writerow([csv_cell(row[key]) for key, _ in COLUMNS])
    return out.getvalue()
