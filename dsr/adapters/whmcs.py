"""The whmcs adapter: a WHMCS billing portal through its API (POST /includes/api.php)."""

import html
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from typing import Any

from dsr.adapters import (
    AdapterConfigError,
    Customer,
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
# Pay methods as GetPayMethods answers them: bank accounts, and cards (stored or tokenised).
BANK_FIELDS = {
    "bank_name": (Category.BANK_DETAILS, "Bank"),
    "account_holder_name": (Category.BANK_DETAILS, "Account holder"),
    "account_number": (Category.BANK_DETAILS, "Bank account number or IBAN"),
    "routing_number": (Category.BANK_DETAILS, "Bank code"),
}
CARD_FIELDS = {
    "card_type": (Category.BANK_DETAILS, "Card type"),
    "card_last_four": (Category.BANK_DETAILS, "Card number, last four digits"),
    "expiry_date": (Category.BANK_DETAILS, "Card expiry date"),
}
# Activity by the client themselves; entries by staff carry the staff member's address.
CLIENT_ACTORS = ("client", "sub-account")
PAGE = 100
# GetClients pages for a notice to every customer: fewer calls for a long list.
CUSTOMER_PAGE = 1000
# How the retention report names WHMCS's closed accounts: it does not say since when.
CLOSED_CLIENTS = "Closed client accounts"
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# WHMCS writes a date that never happened as zeros ("0000-00-00 00:00:00").
NO_DATE = re.compile(r"^[0\-: ]*$")
LINE_END = re.compile(r"<br\s*/?>|</(?:p|div|li|tr|h\d)>", re.IGNORECASE)
TAG = re.compile(r"<[^>]+>")


class WhmcsAdapter:
    """Read everything WHMCS holds on a client: the client record and its contacts, pay
    methods (bank accounts, cards), the IP addresses of their activity, services, domains,
    invoices with their lines, the e-mails sent and support tickets; correct clients and
    contacts through UpdateClient and UpdateContact (nothing else is written).

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

    def _pages(self, action: str, listing: str, item: str, client_id: str, *,
               by: str = "clientid", owner: str = "userid", **extra: str
               ) -> Iterator[dict[str, Any]]:
        """Walk a client's paginated WHMCS listing (limitstart/limitnum) to its end, asking
        for the client by the parameter `by`; keep only the entries whose `owner` field, where
        they have one, names that client."""
        start = 0
        while True:
            reply = self.call(action, {by: client_id, **extra, "limitstart": start,
                                       "limitnum": PAGE})
            entries = self._entries(action, reply, listing, item)
            yield from (e for e in entries
                        if not owner or str(e.get(owner, client_id)) == client_id)
            start += len(entries)
            if not entries or start >= self._count(action, reply):
                return

    def _count(self, action: str, reply: Mapping[str, Any]) -> int:
        """A listing's totalresults, which WHMCS sends as a number or as its digits."""
        try:
            return int(reply.get("totalresults") or 0)
        except (TypeError, ValueError):
            raise SourceReplyInvalid(f"{self.name}: {action} answered a malformed total "
                                     "of results.") from None

    def _entries(self, action: str, reply: Mapping[str, Any], listing: str, item: str
                 ) -> list[dict[str, Any]]:
        """The entries of a listing in a reply: {listing: {item: [...]}}, or "" (or nothing)
        for an empty one, as WHMCS sends it."""
        container = reply.get(listing)
        if container in ("", None, []):
            return []
        entries = container.get(item) if isinstance(container, dict) else None
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise SourceReplyInvalid(f"{self.name}: {action} answered a malformed list.")
        return entries

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
            for read in self._readers():
                findings += read(client_id)
        return findings

    def _readers(self) -> list[Callable[[str], list[Finding]]]:
        """What is read of each client found, in the order the answer lists it."""
        return [self._contacts, self._pay_methods, self._addresses, self._services,
                self._domains, self._invoices, self._emails, self._tickets]

    def _fields(self, kind: str, key: str, record: Mapping[str, Any],
                fields: Mapping[str, tuple[Category, str]]) -> list[Finding]:
        return [
            Finding(category, label, str(record[field]).strip(), self.name,
                    RecordRef(self.name, kind, key, field))
            for field, (category, label) in fields.items()
            if str(record.get(field) or "").strip()
        ]

    def _contacts(self, client_id: str) -> list[Finding]:
        """The fields of the client's contacts (people the account names for billing)."""
        findings = []
        for contact in self._pages("GetContacts", "contacts", "contact", client_id, by="userid"):
            findings += self._fields("contact", str(contact.get("id")), contact, CONTACT_FIELDS)
        return findings

    def _pay_methods(self, client_id: str) -> list[Finding]:
        """The client's bank accounts and cards, field by field (staff see them masked)."""
        reply = self.call("GetPayMethods", {"clientid": client_id})
        methods = reply.get("paymethods")
        if methods in ("", None):
            return []
        if not isinstance(methods, list) or not all(isinstance(m, dict) for m in methods):
            raise SourceReplyInvalid(f"{self.name}: GetPayMethods answered a malformed list.")
        findings = []
        for method in methods:
            fields = BANK_FIELDS if "BankAccount" in str(method.get("type")) else CARD_FIELDS
            findings += self._fields("paymethod", str(method.get("id")), method, fields)
        return findings

    def _addresses(self, client_id: str) -> list[Finding]:
        """One finding per IP address the client used, with when it was first and last seen."""
        seen: dict[str, list[str]] = {}
        for entry in self._pages("GetActivityLog", "activity", "entry", client_id, by="userid",
                                 owner=""):
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

    def _services(self, client_id: str) -> list[Finding]:
        """The client's products and services, with their domain, dates and price."""
        return [
            self._activity(Category.ORDER, "Product or service",
                           _text(p, "name") or _text(p, "translated_name") or "(unnamed)",
                           "service", p, {
                               "group": _text(p, "groupname"), "domain": _text(p, "domain"),
                               "status": _text(p, "status"),
                               "registered": _date(p, "regdate"),
                               "next_due": _date(p, "nextduedate"),
                               "amount": _amount(p, "recurringamount", "billingcycle")})
            for p in self._pages("GetClientsProducts", "products", "product", client_id,
                                 owner="clientid")
        ]

    def _domains(self, client_id: str) -> list[Finding]:
        """The client's domain registrations, with their dates and price."""
        return [
            self._activity(Category.ORDER, "Domain registration",
                           _text(d, "domainname") or "(unnamed)", "domain", d, {
                               "status": _text(d, "status"),
                               "registered": _date(d, "regdate"),
                               "expires": _date(d, "expirydate"),
                               "next_due": _date(d, "nextduedate"),
                               "amount": _amount(d, "recurringamount", "regperiod",
                                                 "every {} year(s)"),
                               "registrar": _text(d, "registrar")})
            for d in self._pages("GetClientsDomains", "domains", "domain", client_id)
        ]

    def _invoices(self, client_id: str) -> list[Finding]:
        """The client's invoices, with their dates, total, status and line items."""
        findings = []
        for invoice in self._pages("GetInvoices", "invoices", "invoice", client_id,
                                   by="userid", orderby="date", order="asc"):
            number = _text(invoice, "invoicenum") or _text(invoice, "id")
            total = " ".join(p for p in (_text(invoice, "total"),
                                         _text(invoice, "currencycode")) if p)
            findings.append(self._activity(
                Category.INVOICE, "Invoice",
                f"Invoice {number} of {_date(invoice, 'date') or 'unknown date'}",
                "invoice", invoice, {
                    "number": number, "date": _date(invoice, "date"),
                    "due": _date(invoice, "duedate"), "paid": _date(invoice, "datepaid"),
                    "total": total, "status": _text(invoice, "status"),
                    "payment_method": _text(invoice, "paymentmethod"),
                    "items": self._invoice_items(_text(invoice, "id"), client_id)}))
        return findings

    def _invoice_items(self, invoice_id: str, client_id: str) -> str:
        """The lines of one invoice, one per line: what was billed and its amount."""
        reply = self.call("GetInvoice", {"invoiceid": invoice_id})
        if str(reply.get("userid", client_id)) != client_id:
            raise SourceReplyInvalid(f"{self.name}: GetInvoice answered another client's "
                                     "invoice.")
        items = self._entries("GetInvoice", reply, "items", "item")
        return "\n".join(f"{_text(i, 'description')}: {_text(i, 'amount')}" for i in items)

    def _emails(self, client_id: str) -> list[Finding]:
        """The e-mails WHMCS sent the client: subject and date, the message as plain text."""
        return [
            self._activity(Category.MESSAGE, "E-mail sent by the billing portal",
                           _text(e, "subject") or "(no subject)", "email", e,
                           {"date": _text(e, "date"), "message": _plain(_text(e, "message"))})
            for e in self._pages("GetEmails", "emails", "email", client_id)
        ]

    def _tickets(self, client_id: str) -> list[Finding]:
        """The client's support tickets, with their number, dates, status and department."""
        tickets = list(self._pages("GetTickets", "tickets", "ticket", client_id,
                                   ignore_dept_assignments="true"))
        departments = self._departments() if tickets else {}
        return [
            self._activity(Category.TICKET, "Support ticket in the client area",
                           _text(t, "subject") or "(no subject)", "ticket", t, {
                               "ticket": _text(t, "tid"), "opened": _text(t, "date"),
                               "status": _text(t, "status"),
                               "department": departments.get(_text(t, "deptid"), ""),
                               "last_reply": _text(t, "lastreply")})
            for t in tickets
        ]

    def _departments(self) -> dict[str, str]:
        """The names of the support departments, by id (GetTickets gives only the id)."""
        reply = self.call("GetSupportDepartments", {"ignore_dept_assignments": "true"})
        return {_text(d, "id"): _text(d, "name")
                for d in self._entries("GetSupportDepartments", reply, "departments",
                                       "department")}

    def _activity(self, category: Category, label: str, value: str, kind: str,
                  record: Mapping[str, Any], context: Mapping[str, str]) -> Finding:
        """A record of activity: its key is the record's id; empty details are left out."""
        return Finding(category, label, value, self.name,
                       RecordRef(self.name, kind, _text(record, "id")),
                       {key: text for key, text in context.items() if text})

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

    def customers(self) -> Iterator[Customer]:
        """Every client whose account is not closed, by GetClients a page at a time, with
        the day the account was created."""
        start = 0
        while True:
            reply = self.call("GetClients", {"limitstart": start, "limitnum": CUSTOMER_PAGE})
            entries = self._entries("GetClients", reply, "clients", "client")
            for client in entries:
                email, created = _text(client, "email"), _date(client, "datecreated")
                if email and _text(client, "status").lower() != "closed":
                    yield Customer(email, date.fromisoformat(created) if ISO_DAY.fullmatch(
                        created) else None)
            start += len(entries)
            if not entries or start >= self._count("GetClients", reply):
                return

    undated = frozenset({CLOSED_CLIENTS})

    def aged(self, before: date) -> dict[str, int]:
        """The client accounts WHMCS holds as closed. WHMCS keeps no day of closing, so
        each is to be checked against the retention by hand: `before` cannot narrow them."""
        reply = self.call("GetClients", {"status": "Closed", "limitstart": 0, "limitnum": 1})
        return {CLOSED_CLIENTS: self._count("GetClients", reply)}

    def check(self) -> Health:
        """Ask WHMCS for its version with the configured credentials."""
        try:
            reply = self.call("WhmcsDetails")
        except SourceError as error:
            return Health(False, str(error))
        version = (reply.get("whmcs") or {}).get("version", "unknown")
        return Health(True, f"WHMCS {version} answered.")


def _text(record: Mapping[str, Any], field: str) -> str:
    """A field of a WHMCS record as text, "" when it is missing or empty."""
    return str(record.get(field) or "").strip()


def _date(record: Mapping[str, Any], field: str) -> str:
    """A date field as a day, or "" for WHMCS's zeros."""
    value = _text(record, field)
    return "" if NO_DATE.match(value) else value[:10]


def _amount(record: Mapping[str, Any], field: str, period: str, form: str = "{}") -> str:
    """An amount with how often it is billed: "9.99 (Monthly)", "12.00 (every 1 year(s))"."""
    amount, every = _text(record, field), _text(record, period)
    return f"{amount} ({form.format(every)})" if amount and every else amount


def _plain(message: str) -> str:
    """An e-mail's HTML as the plain text a person reads: a line per paragraph."""
    text = TAG.sub("", LINE_END.sub("\n", message))
    return "\n".join(line.strip() for line in html.unescape(text).splitlines() if line.strip())
