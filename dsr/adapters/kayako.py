"""The kayako adapter: a self-hosted Kayako Classic helpdesk through its REST API (XML replies,
requests signed with HMAC-SHA256 over a random salt)."""

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from dsr.adapters import (
    AdapterConfigError,
    Finding,
    Health,
    RecordRef,
    SourceError,
    SourceReplyInvalid,
    SubjectIdentity,
)
from dsr.adapters.http import HttpClient
from dsr.adapters.mapping import unix_time
from dsr.categories import Category

STAFF_CREATOR = "2"  # a post's <creator>: 1 is the user, 2 a staff member


def _text(element: Element, tag: str) -> str:
    found = element.find(tag)
    return (found.text or "").strip() if found is not None else ""


class KayakoAdapter:
    """Find the subject's helpdesk users (by exact e-mail address), their organisation, and
    their tickets with the conversation in them (collection takes other people out of the text,
    dsr.adapters.redaction). Live chats have no REST endpoint: map them with the sql adapter.

    Settings: `url` (the API entry point, ending in /api/index.php), `api_key` and
    `secret_key` (use {"env": "NAME"}), `timeout`, `retries`.
    """

    searches = frozenset({"emails"})

    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        self.name = name
        self.http = HttpClient(name, settings)
        for key in ("api_key", "secret_key"):
            if not settings.get(key):
                raise AdapterConfigError(f"setting {key!r} is required (Kayako REST API).")
        self._api_key = str(settings["api_key"])
        self._secret = str(settings["secret_key"]).encode()

    def _signed(self) -> dict[str, str]:
        salt = secrets.token_hex(10)
        digest = hmac.new(self._secret, salt.encode(), hashlib.sha256).digest()
        return {"apikey": self._api_key, "salt": salt,
                "signature": base64.b64encode(digest).decode()}

    def _xml(self, method: str, path: str, root_tag: str,
             form: Mapping[str, str] | None = None) -> Element:
        """Call one REST path and return its XML root, which must be `root_tag`. Search terms
        go in the POST body, never in the URL."""
        if method == "GET":
            response = self.http.send("GET", self.http.url, params={"e": path, **self._signed()})
        else:
            response = self.http.send("POST", self.http.url, params={"e": path},
                                      data={**self._signed(), **(form or {})})
        try:
            root: Element = ElementTree.fromstring(response.content)
        except (ElementTree.ParseError, DefusedXmlException):
            raise SourceReplyInvalid(f"{self.name}: the reply to {path} was not valid XML.") \
                from None
        if root.tag != root_tag:
            raise SourceReplyInvalid(f"{self.name}: the reply to {path} was <{root.tag}>, "
                                     f"not <{root_tag}>.")
        return root

    def lookup(self, subject: SubjectIdentity) -> list[Finding]:
        """Return the subject's helpdesk profile and tickets."""
        users: dict[str, Element] = {}
        tickets: dict[str, Element] = {}
        for email in sorted(subject.emails):
            found = self._xml("POST", "/Base/UserSearch", "users", {"query": email})
            for user in found.iter("user"):
                addresses = {e.text.strip().lower() for e in user.findall("email") if e.text}
                if email in addresses:  # the search is fuzzy; only exact owners count
                    users[_text(user, "id")] = user
        for email in sorted(subject.emails):
            found = self._xml("POST", "/Tickets/TicketSearch", "tickets",
                              {"query": email, "email": "1"})
            for ticket in found.iter("ticket"):
                if _text(ticket, "email").lower() in subject.emails \
                        or _text(ticket, "userid") in users:
                    tickets[ticket.get("id") or _text(ticket, "id")] = ticket
        # Every address of the subject's own helpdesk users is theirs too (a second address):
        # their posts from it are the subject's own words.
        own = replace(subject, emails=subject.emails | {
            e.text.strip().lower() for user in users.values() for e in user.findall("email")
            if e.text})
        findings = []
        for user_id, user in sorted(users.items()):
            findings += self._profile(user_id, user)
        for ticket_id, ticket in sorted(tickets.items()):
            findings += self._ticket(ticket_id, ticket, own)
        return findings

    def _profile(self, user_id: str, user: Element) -> list[Finding]:
        ref = RecordRef(self.name, "user", user_id)
        found = [Finding(Category.EMAIL, "Helpdesk e-mail address", e.text.strip(), self.name,
                         RecordRef(self.name, "user", user_id, "email"))
                 for e in user.findall("email") if e.text and e.text.strip()]
        for tag, category, label in (("fullname", Category.NAME, "Name in the helpdesk"),
                                     ("phone", Category.PHONE, "Telephone in the helpdesk")):
            if value := _text(user, tag):
                found.append(Finding(category, label, value, self.name,
                                     RecordRef(ref.source, ref.kind, ref.key, tag)))
        organisation = _text(user, "userorganizationid")
        if organisation and organisation != "0":
            reply = self._xml("GET", f"/Base/UserOrganization/{organisation}", "userorganizations")
            for org in reply.iter("userorganization"):
                key = RecordRef(self.name, "organization", organisation)
                if name := _text(org, "name"):
                    found.append(Finding(Category.COMPANY, "Organisation", name, self.name,
                                         RecordRef(key.source, key.kind, key.key, "name")))
                address = ", ".join(p for p in (
                    _text(org, "address"),
                    f"{_text(org, 'postalcode')} {_text(org, 'city')}".strip(),
                    _text(org, "country")) if p)
                if address:
                    found.append(Finding(Category.ADDRESS, "Organisation address", address,
                                         self.name, RecordRef(key.source, key.kind, key.key,
                                                              "address")))
        return found

    def _ticket(self, ticket_id: str, ticket: Element, subject: SubjectIdentity
                ) -> list[Finding]:
        posts = self._xml("GET", f"/Tickets/TicketPost/ListAll/{ticket_id}", "posts").iter("post")
        lines, left_out, ips = [], 0, set()
        for post in posts:
            by_subject = _text(post, "email").lower() in subject.emails
            if not (by_subject or _text(post, "creator") == STAFF_CREATOR):
                left_out += 1  # a third party copied into the ticket: their words are theirs
                continue
            if by_subject and _text(post, "ipaddress"):
                ips.add(_text(post, "ipaddress"))
            lines.append(f"{unix_time(_text(post, 'dateline'))} {_text(post, 'fullname')}: "
                         f"{_text(post, 'contents')}")
        if _text(ticket, "ipaddress"):
            ips.add(_text(ticket, "ipaddress"))
        context = {"ticket": _text(ticket, "displayid"),
                   "opened": unix_time(_text(ticket, "creationtime")),
                   "conversation": "\n".join(lines)}
        if left_out:
            context["left_out"] = f"{left_out} message(s) by other people"
        found = [Finding(Category.TICKET, "Helpdesk ticket",
                         _text(ticket, "subject") or "(no subject)",
                         self.name, RecordRef(self.name, "ticket", ticket_id), context)]
        found += [Finding(Category.IP, "IP address in a helpdesk ticket", ip, self.name,
                          RecordRef(self.name, "ticket", ticket_id, "ipaddress"))
                  for ip in sorted(ips)]
        return found

    def check(self) -> Health:
        """List the user groups with the configured key and signature."""
        try:
            groups = self._xml("GET", "/Base/UserGroup", "usergroups")
        except SourceError as error:
            return Health(False, str(error))
        return Health(True, f"Kayako answered ({len(list(groups))} user groups).")
