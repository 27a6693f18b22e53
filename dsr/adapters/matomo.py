"""The matomo adapter: a self-hosted Matomo (formerly Piwik) through its PrivacyManager API."""

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from dsr.adapters import (
    AdapterConfigError,
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
from dsr.categories import Category

# PrivacyManager.findDataSubjects reads Live.getLastVisitsDetails, which stops at 401 visits.
CAP = 401
PAGES_KEY = "log_action_log_link_visit_action_idaction_url"


def _duration(seconds: int) -> str:
    minutes, rest = divmod(max(seconds, 0), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


class MatomoAdapter:
    """Find the subject's visits by their customer number (Matomo's userId) and by IP addresses
    tied to their account, then export each visit with the pages seen.

    Settings: `url` (Matomo's base address), `token` (a token_auth with admin access to the
    sites; use {"env": "NAME"}), `site` ("all" or a site id), `batch` (visits per export call,
    default 100), `timeout`, `retries`. Token and search terms travel in the POST body, never in
    the URL, so they stay out of web-server logs.
    """

    searches = frozenset({"customer_ids", "ips"})

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

    def lookup(self, subject: SubjectIdentity) -> Findings:
        """Return the subject's visits and the IP addresses they came from."""
        segments = [f"userId=={cid}" for cid in sorted(subject.customer_ids)]
        segments += [f"visitIp=={ip}" for ip in sorted(subject.ips)]
        visits: dict[tuple[str, str], dict[str, Any]] = {}
        warnings = []
        for segment in segments:
            found = self.call("PrivacyManager.findDataSubjects",
                              {"idSite": self.site, "segment": segment})
            if not isinstance(found, list):
                raise SourceReplyInvalid(f"{self.name}: findDataSubjects did not list visits.")
            if len(found) >= CAP:
                warnings.append(f"{self.name}: Matomo returned its maximum of {CAP} visits for "
                                "one search; older visits of this subject may be missing.")
            owners = {str(v.get("userId") or "") for v in found} - {""}
            # An address other accounts used too (an office, a VPN) proves nothing about a
            # visitor who was not signed in: only the subject's own visits from it count.
            shared = segment.startswith("visitIp==") and bool(owners - subject.customer_ids)
            if shared:
                warnings.append(f"{self.name}: an IP address of this subject was also used by "
                                "other accounts; anonymous visits from it were left out.")
            for visit in found:
                owner = str(visit.get("userId") or "")
                if (owner and owner not in subject.customer_ids) or (shared and not owner):
                    continue
                visits[(str(visit["idSite"]), str(visit["idVisit"]))] = visit
        findings: list[Finding] = []
        keys = sorted(visits, key=lambda k: (int(k[0]), int(k[1])))
        for start in range(0, len(keys), self.batch):
            findings += self._export(keys[start : start + self.batch])
        return Findings(findings, warnings)

    def _export(self, keys: list[tuple[str, str]]) -> list[Finding]:
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
            pages[str(action["idvisit"])].append(names.get(str(action.get("idaction_url")), "?"))
        findings, ips = [], defaultdict(list)
        for row in export["log_visit"]:
            key = f"{row['idsite']}:{row['idvisit']}"
            first = str(row.get("visit_first_action_time", ""))
            date, _, time = first.partition(" ")
            findings.append(Finding(
                Category.VISIT, "Website visit", f"Visit on {date} at {time[:5]} UTC",
                self.name, RecordRef(self.name, "visit", key), {
                    "date": date, "time": f"{time[:5]} UTC",
                    "duration": _duration(int(row.get("visit_total_time") or 0)),
                    "pages": ", ".join(pages.get(str(row["idvisit"]), [])),
                    "browser": f"{row.get('config_browser_name', '?')} on "
                               f"{row.get('config_os', '?')}",
                    "country": str(row.get("location_country", "")),
                }))
            if row.get("location_ip"):
                ips[str(row["location_ip"])].append(date)
        findings += [
            Finding(Category.IP, "IP address of website visits", ip, self.name,
                    RecordRef(self.name, "visit-ip", ip, "location_ip"),
                    {"visits": str(len(dates)), "first_seen": min(dates),
                     "last_seen": max(dates)})
            for ip, dates in sorted(ips.items())
        ]
        return findings

    def check(self) -> Health:
        """Ask Matomo for its version with the configured token."""
        try:
            reply = self.call("API.getMatomoVersion")
        except SourceError as error:
            return Health(False, str(error))
        version = reply.get("value", "unknown") if isinstance(reply, dict) else "unknown"
        return Health(True, f"Matomo {version} answered.")
