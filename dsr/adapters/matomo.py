"""The matomo adapter: a self-hosted Matomo (formerly Piwik) through its PrivacyManager API."""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from dsr.adapters import (
    IDENTIFICATION,
    AdapterConfigError,
    ClaimedIp,
    Finding,
    Findings,
    Health,
    RecordRef,
    SourceAuthFailed,
    SourceError,
    SourceReplyInvalid,
    SubjectIdentity,
)
from dsr.adapters.http import HttpClient
from dsr.adapters.matomo_visits import context, page_seen
from dsr.categories import Category

# PrivacyManager.findDataSubjects reads Live.getLastVisitsDetails, which stops at 401 visits.
CAP = 401
# What would let whoever holds it search out the rest of a browser's visits.
BEARER = frozenset({"visitor ID", "device fingerprint (a hash)"})
PAGES_KEY = "log_action_log_link_visit_action_idaction_url"
# The retention report pages through old visits this many at a time, from Matomo's first day.
AGED_PAGE = 1000
EARLIEST = "2007-01-01"
Visit = dict[str, Any]

# What the subject is told when an address they gave cannot be told apart from other
# people's (GDPR Art. 11(2)): never the address itself, which would then sit in the answer's
# warnings and the console.
SHARED_CLAIM = (
    "Other people's visits were recorded from the IP address you gave, in the days you gave "
    "(another account, or another browser, used it too), so we cannot tell which visits are "
    "yours and released none from it. If you ask again from the browser you visited our "
    "websites with, we can search our analytics by the visitor ID it carries.")
CROWDED_CLAIM = (
    "So many visits were recorded from the IP address you gave that we cannot check that "
    "nobody else used it in the days you gave, so we released none from it. Ask again from "
    "the browser you visited our websites with, or give fewer and more recent days.")


def _day(visit: Visit) -> date | None:
    """The day (UTC) of a visit's last action, as findDataSubjects gives it."""
    try:
        return date.fromisoformat(str(visit.get("lastActionDateTime", ""))[:10])
    except ValueError:
        return None


def _owner(visit: Visit) -> str:
    return str(visit.get("userId") or "")


@dataclass
class Release:
    """What of the visits Matomo found may be released to this subject, and why not the rest.

    Visits signed in to another account are never the subject's. Anonymous visits count as
    theirs when their browser presented the visitor ID, or when they came from an address
    tied to the subject's account that no other account used, or from an address the
    requester gave, in the days they gave, that no account and no other browser used then.
    """

    source: str
    subject: SubjectIdentity
    visits: dict[tuple[str, str], Visit] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # Visits kept on something stronger than an address the requester typed.
    proven: set[tuple[str, str]] = field(default_factory=set)

    def keep(self, found: list[Visit], anonymous: bool = True, typed: bool = False) -> None:
        """Keep the visits of the subject's accounts, and the anonymous ones if allowed."""
        for visit in found:
            owner = _owner(visit)
            if (owner in self.subject.customer_ids) if owner else anonymous:
                key = (str(visit["idSite"]), str(visit["idVisit"]))
                self.visits[key] = visit
                if not typed:
                    self.proven.add(key)

    def on_typed_address(self) -> set[tuple[str, str]]:
        """The visits kept only because of an address the requester gave: their visitor ID
        and device fingerprint are left out, so that knowing someone's address never hands
        over what would then open the rest of their visits."""
        return set(self.visits) - self.proven

    def account_ip(self, found: list[Visit]) -> None:
        """Visits from an address tied to the subject's account."""
        # An address other accounts used too (an office, a VPN) proves nothing about a
        # visitor who was not signed in: only the subject's own visits from it count.
        shared = bool({_owner(v) for v in found} - {""} - self.subject.customer_ids)
        if shared:
            self.warnings.append(f"{self.source}: an IP address of this subject was also used "
                                 "by other accounts; anonymous visits from it were left out.")
        self.keep(found, anonymous=not shared)

    def browser(self, found: list[Visit]) -> None:
        """Visits of the visitor ID the subject's browser presented."""
        if {_owner(v) for v in found} - {""} - self.subject.customer_ids:
            self.warnings.append(f"{self.source}: visits signed in to another account from "
                                 "the subject's browser were left out.")
        self.keep(found)

    def claimed(self, claim: ClaimedIp, found: list[Visit]) -> None:
        """Visits from an address the requester gave, in the days they gave, if nobody else
        was there then."""
        days = [d for v in found if (d := _day(v)) is not None]
        if len(found) >= CAP and (not days or min(days) > claim.first_day):
            self.warnings.append(f"{self.source}: {IDENTIFICATION}{CROWDED_CLAIM}")
            return
        inside = [v for v in found if (d := _day(v)) is not None and claim.covers(d)]
        others = {_owner(v) for v in inside} - {""} - self.subject.customer_ids
        browsers = {str(v.get("visitorId") or "") for v in inside if not _owner(v)}
        strangers = browsers - self.subject.visitor_ids
        if others or len(strangers) > (0 if self.subject.visitor_ids else 1):
            self.warnings.append(f"{self.source}: {IDENTIFICATION}{SHARED_CLAIM}")
            return
        self.keep(inside, typed=True)


class MatomoAdapter:
    """Find the subject's visits by their customer number (Matomo's userId), by IP addresses
    tied to their account, by the visitor ID their browser presented and by IP addresses
    they gave with the days of their visits (see Release), then export each visit with every
    column Matomo holds and the pages seen.

    Settings: `url` (Matomo's base address), `token` (a token_auth with admin access to the
    sites; use {"env": "NAME"}), `site` ("all" or a site id), `batch` (visits per export call,
    default 100), `timeout`, `retries`. Token and search terms travel in the POST body, never in
    the URL, so they stay out of web-server logs.
    """

    searches = frozenset({"customer_ids", "ips", "visitor_ids", "claimed_ips"})

    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        self.name = name
        self.http = HttpClient(name, settings)
        self.endpoint = self.http.url.rstrip("/") + "/index.php"
        if not settings.get("token"):
            raise AdapterConfigError("setting 'token' is required (a Matomo token_auth).")
        self._token = str(settings["token"])
        self.site = str(settings.get("site", "all"))
        self.batch = int(settings.get("batch", 100))

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> Any:
        """Call one API method; raise SourceError with Matomo's own message when it refuses."""
        response = self.http.send("POST", self.endpoint, data={
            "module": "API", "method": method, "format": "JSON", "token_auth": self._token,
            **(params or {}),
        })
        reply = self.http.json(response)
        if isinstance(reply, dict) and reply.get("result") == "error":
            message = str(reply.get("message", ""))
            if "token_auth" in message or "access" in message.lower():
                raise SourceAuthFailed(f"{self.name}: Matomo refused the token ({message[:100]})")
            raise SourceError(f"{self.name}: {method} failed: {message[:120]}")
        return reply

    def find(self, segment: str, warnings: list[str]) -> list[Visit]:
        """The visits of one segment (findDataSubjects), warning when Matomo's cap is hit."""
        found = self.call("PrivacyManager.findDataSubjects",
                          {"idSite": self.site, "segment": segment})
        if not isinstance(found, list):
            raise SourceReplyInvalid(f"{self.name}: findDataSubjects did not list visits.")
        if len(found) >= CAP:
            warnings.append(f"{self.name}: Matomo returned its maximum of {CAP} visits for "
                            "one search; older visits of this subject may be missing.")
        return found

    def lookup(self, subject: SubjectIdentity) -> Findings:
        """Return the subject's visits and the IP addresses they came from."""
        release = Release(self.name, subject)
        warnings = release.warnings
        for cid in sorted(subject.customer_ids):
            release.keep(self.find(f"userId=={cid}", warnings))
        for ip in sorted(subject.ips):
            release.account_ip(self.find(f"visitIp=={ip}", warnings))
        for visitor in sorted(subject.visitor_ids):
            release.browser(self.find(f"visitorId=={visitor}", warnings))
        for claim in sorted(subject.claimed_ips):
            release.claimed(claim, self.find(f"visitIp=={claim.address}", warnings))
        findings: list[Finding] = []
        keys = sorted(release.visits, key=lambda k: (int(k[0]), int(k[1])))
        typed = release.on_typed_address()
        for start in range(0, len(keys), self.batch):
            findings += self._export(keys[start : start + self.batch], typed)
        return Findings(findings, list(dict.fromkeys(warnings)))

    def _export(self, keys: list[tuple[str, str]], typed: set[tuple[str, str]]
                ) -> list[Finding]:
        params = {}
        for i, (site, visit) in enumerate(keys):
            params[f"visits[{i}][idsite]"] = site
            params[f"visits[{i}][idvisit]"] = visit
        export = self.call("PrivacyManager.exportDataSubjects", params)
        if not isinstance(export, dict) or not isinstance(export.get("log_visit"), list):
            raise SourceReplyInvalid(f"{self.name}: exportDataSubjects has no log_visit.")
        names = {str(a["idaction"]): str(a["name"]) for a in export.get(PAGES_KEY, [])}
        pages: dict[str, list[str]] = defaultdict(list)
        for action in export.get("log_link_visit_action", []):
            pages[str(action["idvisit"])].append(page_seen(
                names.get(str(action.get("idaction_url")), "?"), action.get("server_time"),
                action.get("time_spent")))
        findings, ips = [], defaultdict(list)
        for row in export["log_visit"]:
            details = context(row, pages.get(str(row["idvisit"]), []), names)
            if (str(row["idsite"]), str(row["idvisit"])) in typed:
                details = {k: v for k, v in details.items() if k not in BEARER}
            findings.append(Finding(
                Category.VISIT, "Website visit",
                f"Visit on {details['date']} at {details['time']}", self.name,
                RecordRef(self.name, "visit", f"{row['idsite']}:{row['idvisit']}"), details))
            if row.get("location_ip"):
                ips[str(row["location_ip"])].append(details["date"])
        findings += [
            Finding(Category.IP, "IP address of website visits", ip, self.name,
                    RecordRef(self.name, "visit-ip", ip, "location_ip"),
                    {"visits": str(len(dates)), "first_seen": min(dates),
                     "last_seen": max(dates)})
            for ip, dates in sorted(ips.items())
        ]
        return findings

    def aged(self, before: date) -> dict[str, int]:
        """The raw visits Matomo still holds from before `before` (Live.getLastVisitsDetails
        over the range up to the day before, a page at a time, idVisit alone): what its
        "delete old raw data" setting should have removed."""
        until = (before - timedelta(days=1)).isoformat()
        counted, offset = 0, 0
        while True:
            page = self.call("Live.getLastVisitsDetails", {
                "idSite": self.site, "period": "range", "date": f"{EARLIEST},{until}",
                "filter_limit": AGED_PAGE, "filter_offset": offset, "doNotFetchActions": 1,
                "showColumns": "idVisit"})
            if not isinstance(page, list):
                raise SourceReplyInvalid(f"{self.name}: getLastVisitsDetails did not list "
                                         "visits.")
            counted += len(page)
            offset += len(page)
            if len(page) < AGED_PAGE:
                return {"Visits (raw log)": counted}

    def check(self) -> Health:
        """Ask Matomo for its version with the configured token."""
        try:
            reply = self.call("API.getMatomoVersion")
        except SourceError as error:
            return Health(False, str(error))
        version = reply.get("value", "unknown") if isinstance(reply, dict) else "unknown"
        return Health(True, f"Matomo {version} answered.")
