"""The whmcs adapter: a WHMCS billing portal through its API (POST /includes/api.php)."""

from collections.abc import Iterator, Mapping
from typing import Any

from dsr.adapters import (
    AdapterConfigError,
    Finding,
    Health,
    RecordRef,
    SourceAuthFailed,
    SourceError,
    SourceNotWritable,
    SourceReplyInvalid,
    SubjectIdentity,
)
from dsr.adapters.http import HttpClient
from dsr.categories import Category

CLIENT_FIELDS = {
    "firstname": (Category.NAME, "First name"),
    "lastname": (Category.NAME, "Last name"),
    "companyname": (Category.COMPANY, "Company"),
    "email": (Category.EMAIL, "E-mail address"),
    "address1": (Category.ADDRESS, "Address line 1"),
    "address2": (Category.ADDRESS, "Address line 2"),
    "city": (Category.ADDRESS, "City"),
    "state": (Category.ADDRESS, "Region"),
    "postcode": (Category.ADDRESS, "Postcode"),
    "country": (Category.ADDRESS, "Country"),
    "phonenumber": (Category.PHONE, "Telephone"),
    "tax_id": (Category.ID_DETAILS, "Tax ID"),
}
CONTACT_FIELDS = {
    "firstname": (Category.NAME, "Contact first name"),
    "lastname": (Category.NAME, "Contact last name"),
    "email": (Category.EMAIL, "Contact e-mail address"),
    "phonenumber": (Category.PHONE, "Contact telephone"),
}
# Activity by the client themselves; entries by staff carry the staff member's address.
CLIENT_ACTORS = ("client", "sub-account")
PAGE = 100


class WhmcsAdapter:
    """Read clients, their contacts and the IP addresses of their activity; correct clients
    and contacts through UpdateClient and UpdateContact.

    Settings: `url` (the portal's base address), `identifier` and `secret` (API credentials;
    use {"env": "NAME"}), `timeout`, `retries`.
    """

    searches = frozenset({"emails", "customer_ids"})

    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        self.name = name
        self.http = HttpClient(name, settings)
        self.endpoint = self.http.url.rstrip("/") + "/includes/api.php"
        for key in ("identifier", "secret"):
            if not settings.get(key):
                raise AdapterConfigError(f"setting {key!r} is required (WHMCS API credentials).")
        self._credentials = {"identifier": settings["identifier"], "secret": settings["secret"]}

    def call(self, action: str, params: Mapping[str, Any] | None = None, *, write: bool = False
             ) -> dict[str, Any]:
        """Call one API action; return its reply, or raise SourceError with its message."""
        response = self.http.send(
            "POST", self.endpoint, write=write,
            data={**self._credentials, "action": action, "responsetype": "json",
                  **(params or {})},
        )
        reply = self.http.json(response)
        if not isinstance(reply, dict) or "result" not in reply:
            raise SourceReplyInvalid(f"{self.name}: {action} answered without a result.")
        if reply["result"] != "success":
            message = str(reply.get("message", "unknown error"))
            if "authentication" in message.lower():
                raise SourceAuthFailed(f"{self.name}: WHMCS refused the API credentials.")
            raise SourceError(f"{self.name}: {action} failed: {message[:120]}")
        return reply

    def _client(self, key: str, value: str) -> dict[str, Any] | None:
        try:
            reply = self.call("GetClientsDetails", {key: value, "stats": "false"})
        except SourceError as error:
            if "not found" in str(error).lower():
                return None
            raise
        client = reply.get("client")
        if not isinstance(client, dict) or "id" not in client:
            raise SourceReplyInvalid(f"{self.name}: GetClientsDetails answered without a client.")
        return client

    def _pages(self, action: str, listing: str, item: str, client_id: str
               ) -> Iterator[dict[str, Any]]:
        """Walk a paginated WHMCS listing (limitstart/limitnum) to its end."""
        start = 0
        while True:
            reply = self.call(action, {"userid": client_id, "limitstart": start, "limitnum": PAGE})
            container = reply.get(listing)  # WHMCS sends "" for an empty list
            entries = container.get(item, []) if isinstance(container, dict) else []
            if not isinstance(entries, list):
                raise SourceReplyInvalid(f"{self.name}: {action} answered a malformed list.")
            yield from entries
            start += len(entries)
            if not entries or start >= int(reply.get("totalresults", 0)):
                return

    def lookup(self, subject: SubjectIdentity) -> list[Finding]:
        """Find the subject's client records by e-mail address and customer number."""
        clients: dict[str, dict[str, Any]] = {}
        for key, values in (("email", subject.emails), ("clientid", subject.customer_ids)):
            for value in sorted(values):
                client = self._client(key, value)
                if client is not None:
                    clients[str(client["id"])] = client
        findings = []
        for client_id, client in sorted(clients.items()):
            findings += self._fields("client", client_id, client, CLIENT_FIELDS)
            for contact in self._pages("GetContacts", "contacts", "contact", client_id):
                findings += self._fields("contact", str(contact.get("id")), contact,
                                         CONTACT_FIELDS)
            findings += self._addresses(client_id)
        return findings

    def _fields(self, kind: str, key: str, record: Mapping[str, Any],
                fields: Mapping[str, tuple[Category, str]]) -> list[Finding]:
        return [
            Finding(category, label, str(record[field]).strip(), self.name,
                    RecordRef(self.name, kind, key, field))
            for field, (category, label) in fields.items()
            if str(record.get(field) or "").strip()
        ]

    def _addresses(self, client_id: str) -> list[Finding]:
        """One finding per IP address the client used, with when it was first and last seen."""
        seen: dict[str, list[str]] = {}
        for entry in self._pages("GetActivityLog", "activity", "entry", client_id):
            ip = str(entry.get("ipaddress") or entry.get("ipaddr") or "").strip()
            if ip and str(entry.get("user", "")).lower().startswith(CLIENT_ACTORS):
                seen.setdefault(ip, []).append(str(entry.get("date", "")))
        return [
            Finding(Category.IP, "IP address in the client area", ip, self.name,
                    RecordRef(self.name, "activity", client_id, "ipaddress"),
                    {"first_seen": min(dates), "last_seen": max(dates),
                     "entries": str(len(dates))})
            for ip, dates in sorted(seen.items())
        ]

    def correct(self, ref: RecordRef, changes: Mapping[Category, str]) -> None:
        """Write a change to one field of a client or contact."""
        fields = {"client": CLIENT_FIELDS, "contact": CONTACT_FIELDS}.get(ref.kind, {})
        if ref.field not in fields or set(changes) != {fields[ref.field][0]}:
            raise SourceNotWritable(f"{self.name}: no single writable field for this change "
                              f"({ref.kind}).")
        value = changes[fields[ref.field][0]]
        if ref.kind == "client":
            self.call("UpdateClient", {"clientid": ref.key, ref.field: value}, write=True)
        else:
            self.call("UpdateContact", {"contactid": ref.key, ref.field: value}, write=True)

    def check(self) -> Health:
        """Ask WHMCS for its version with the configured credentials."""
        try:
            reply = self.call("WhmcsDetails")
        except SourceError as error:
            return Health(False, str(error))
        version = (reply.get("whmcs") or {}).get("version", "unknown")
        return Health(True, f"WHMCS {version} answered.")
