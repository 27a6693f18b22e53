"""A Matomo visit as a person reads it: every column of PrivacyManager's export of log_visit,
under a plain label, with Matomo's codes (browsers, systems, devices, referrers) spelt out."""

from collections.abc import Mapping
from typing import Any

# Matomo's codes, as core/Tracker and the DevicesDetection plugin store them; a code not
# listed is shown as Matomo stored it.
BROWSERS = {"FF": "Firefox", "CH": "Chrome", "SF": "Safari", "ED": "Microsoft Edge",
            "OP": "Opera", "IE": "Internet Explorer", "CM": "Chrome Mobile",
            "MF": "Firefox Mobile", "SB": "Samsung Browser", "BR": "Brave"}
SYSTEMS = {"WIN": "Windows", "MAC": "macOS", "LIN": "GNU/Linux", "AND": "Android",
           "IOS": "iOS", "UBT": "Ubuntu", "FED": "Fedora", "CRS": "ChromeOS"}
DEVICE_TYPES = {0: "desktop", 1: "smartphone", 2: "tablet", 3: "feature phone", 4: "console",
                5: "TV", 6: "car browser", 7: "smart display", 8: "camera",
                9: "portable media player", 10: "phablet", 11: "smart speaker",
                12: "wearable", 13: "peripheral"}
REFERRER_TYPES = {1: "direct entry", 2: "search engine", 3: "website", 6: "campaign",
                  7: "social network"}
RETURNING = {0: "no, a first visit", 1: "yes", 2: "yes, as a customer"}

# Columns shown under another label or not at all: the keys of the visit, and what the
# finding's value, its IP finding or another label already says.
SHOWN_ELSEWHERE = {"idvisit", "idsite", "visit_first_action_time", "visit_total_time",
                   "config_browser_name", "config_browser_version", "config_os",
                   "config_os_version", "location_latitude", "location_longitude",
                   "visit_entry_idaction_url", "visit_exit_idaction_url"}
LABELS = {
    "idvisitor": "visitor ID", "user_id": "user ID", "location_ip": "IP address",
    "visit_last_action_time": "last action", "visit_total_actions": "actions",
    "visit_total_searches": "site searches", "visit_goal_converted": "goal reached",
    "referer_type": "referrer type", "referer_name": "referrer name",
    "referer_url": "referrer URL", "referer_keyword": "referrer keyword",
    "location_city": "city", "location_region": "region", "location_country": "country",
    "location_browser_lang": "language", "location_provider": "network provider",
    "config_device_type": "device type", "config_device_brand": "device brand",
    "config_device_model": "device model", "config_resolution": "screen resolution",
    "config_id": "device fingerprint (a hash)", "config_cookie": "cookies enabled",
    "visitor_count_visits": "visit count", "visitor_returning": "returning visitor",
    "visitor_localtime": "visitor's local time",
    "visitor_seconds_since_first": "seconds since the first visit",
    "visitor_seconds_since_last": "seconds since the previous visit",
    "visit_entry_idaction_url": "entry page", "visit_exit_idaction_url": "exit page",
}
CODES: dict[str, Mapping[int, str]] = {"config_device_type": DEVICE_TYPES,
                                       "referer_type": REFERRER_TYPES,
                                       "visitor_returning": RETURNING}


def duration(seconds: int) -> str:
    """Seconds as a person reads a short stretch of time: '2 min 5 s'."""
    minutes, rest = divmod(max(seconds, 0), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def _coded(code: Any, names: Mapping[int, str]) -> str:
    """A numeric code of Matomo's spelt out, or as stored when it is not one we know."""
    try:
        return names.get(int(code), str(code))
    except (TypeError, ValueError):
        return str(code)


def _with_version(name: str, version: Any) -> str:
    return f"{name} {version}".strip() if version not in (None, "", "UNK") else name


def _label(column: str) -> str:
    """A column Matomo added that we have no label for, readable all the same."""
    return LABELS.get(column, column.replace("config_", "").replace("location_", "")
                      .replace("_", " "))


def context(row: Mapping[str, Any], pages: list[str], actions: Mapping[str, str]
            ) -> dict[str, str]:
    """The details of one exported visit: every column held, under a plain label."""
    first = str(row.get("visit_first_action_time") or "")
    date, _, time = first.partition(" ")
    details = {"date": date, "time": f"{time[:5]} UTC",
               "duration": duration(int(row.get("visit_total_time") or 0)),
               "pages": "; ".join(pages)}
    for name, version, codes, label in (
            ("config_browser_name", "config_browser_version", BROWSERS, "browser"),
            ("config_os", "config_os_version", SYSTEMS, "operating system")):
        if row.get(name):
            code = str(row[name])
            details[label] = _with_version(codes.get(code, code), row.get(version))
    if row.get("location_latitude") not in (None, "") and \
            row.get("location_longitude") not in (None, ""):
        details["location (latitude, longitude)"] = \
            f"{row['location_latitude']}, {row['location_longitude']}"
    for column in ("visit_entry_idaction_url", "visit_exit_idaction_url"):
        if row.get(column) not in (None, "", 0):
            details[LABELS[column]] = actions.get(str(row[column]), str(row[column]))
    for column, value in row.items():
        if column in SHOWN_ELSEWHERE or value in (None, ""):
            continue
        shown = _coded(value, CODES[column]) if column in CODES else str(value)
        if column == "location_country":
            shown = shown.upper()
        details[_label(column)] = shown
    return details


def page_seen(url: str, server_time: Any, seconds: Any) -> str:
    """One page of a visit: where, when and for how long."""
    _, _, time = str(server_time or "").partition(" ")
    parts = [url]
    if time:
        parts.append(f"at {time} UTC")
    if seconds not in (None, ""):
        parts.append(f"for {duration(int(seconds))}")
    return " ".join(parts)
