"""An example third-party adapter: newsletter subscribers in a JSON-lines file, one object a
line with "email", "name" and "subscribed_at". It uses only dsr's public contract."""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dsr.adapters import (
    AdapterConfigError,
    Category,
    Finding,
    Health,
    RecordRef,
    SourceUnavailable,
    SubjectIdentity,
)


class NewsletterAdapter:
    """Read-only: subscribers are found by e-mail address."""

    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        if not settings.get("path"):
            raise AdapterConfigError("setting 'path' is required (the subscribers file).")
        self.name = name
        self.path = Path(settings["path"])

    def _subscribers(self) -> list[dict[str, Any]]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            raise SourceUnavailable(f"{self.name}: the subscribers file cannot be read.") from None
        return [json.loads(line) for line in lines if line.strip()]

    def lookup(self, subject: SubjectIdentity) -> list[Finding]:
        found = []
        for number, row in enumerate(self._subscribers(), start=1):
            if row["email"].lower() not in subject.emails:
                continue
            ref = RecordRef(self.name, "subscriber", str(number))
            found.append(Finding(Category.EMAIL, "Newsletter address", row["email"], self.name,
                                 RecordRef(ref.source, ref.kind, ref.key, "email"),
                                 {"subscribed_at": row["subscribed_at"]}))
            if row.get("name"):
                found.append(Finding(Category.NAME, "Name for the newsletter", row["name"],
                                     self.name, RecordRef(ref.source, ref.kind, ref.key, "name")))
        return found

    def check(self) -> Health:
        try:
            count = len(self._subscribers())
        except SourceUnavailable as error:
            return Health(False, str(error))
        return Health(True, f"{count} subscribers.")
