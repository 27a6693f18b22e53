"""Lawful disclosures (GDPR Art. 4(9) and 23): the register legal keeps of what authorities
asked for, what was decided and handed over, and when the subject may be told.

The vocabulary (instruments, channels, kinds of data) is the one transparency reports use.
What a disclosure may collect is exactly what was approved: the approved targets become the
identity the sources are asked about, and only the categories of the approved kinds of data,
inside the approved time range, are kept.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from dsr import audit, engine
from dsr.actors import Actor
from dsr.adapters import Finding, SubjectIdentity
from dsr.adapters.registry import OWN, configured
from dsr.categories import Category
from dsr.collection import found_items
from dsr.database import utcnow
from dsr.extensions import db
from dsr.models import Disclosure, FoundItem, Request

INSTRUMENTS = {
    "subpoena": "Subpoena",
    "court_order": "Court order",
    "search_warrant": "Search warrant",
    "production_order": "Production order",
    "preservation": "Preservation request",
    "emergency": "Emergency request",
    "national_security": "National-security request",
    "mlat": "Mutual legal assistance request",
    "other": "Other",
}
CHANNELS = {"email": "E-mail", "portal": "Authority portal", "post": "Post", "fax": "Fax",
            "phone": "Telephone", "in_person": "In person"}
AUTHENTICITY = {"confirmed": "Confirmed", "not_confirmed": "Could not be confirmed",
                "pending": "Check pending"}
DELIVERY = {"secure_portal": "Secure portal", "encrypted_email": "Encrypted e-mail",
            "courier": "Courier (encrypted medium)", "in_person": "Handed over in person"}
TARGET_KINDS = {"customer_id": "Customer number", "email": "E-mail address",
                "ip": "IP address", "domain": "Domain"}
# The kinds of data requests name, and the categories each covers.
DATA_TYPES = {
    "subscriber": ("Subscriber data", (Category.NAME, Category.ADDRESS, Category.EMAIL,
                                       Category.PHONE, Category.COMPANY, Category.ID_DETAILS,
                                       Category.BANK_DETAILS)),
    "traffic": ("Traffic and log data", (Category.IP, Category.VISIT, Category.SIGN_IN)),
    "content": ("Content", (Category.TICKET, Category.CHAT, Category.MESSAGE)),
    "billing": ("Orders, invoices and payments", (Category.ORDER, Category.INVOICE,
                                                  Category.PAYMENT)),
}
OUTCOMES = ("all data", "some data", "no data", "refused", "withdrawn")
# Context keys that date a finding (as the adapters write them), for the approved time range.
DATED_BY = ("date", "opened", "dateline", "created", "started", "first_seen", "last_seen")
# Facts about the subject are current, not dated: a range narrows only activity and IPs.
UNDATED = frozenset(DATA_TYPES["subscriber"][1])
NOT_NOTIFIED = ("received", "legal_review", "approved", "collecting", "package_reviewed",
                "disclosed", "notification_deferred")


@dataclass(frozen=True)
class Intake:
    """A disclosure request as legal records it on arrival."""

    received_at: datetime
    channel: str
    authority: str
    officer: str
    contact: str
    country: str
    authenticity_check: str
    authenticity_result: str
    instrument: str
    citation: str
    emergency: bool
    targets: list[dict[str, str]]
    range_from: date | None
    range_to: date | None
    data_types: list[str]
    deadline: datetime | None = None
    notify_email: str | None = None


def due_at(received_at: datetime, emergency: bool, stated: datetime | None) -> datetime:
    """The answer's deadline: as the authority stated, else 8 hours for an emergency and 10
    days otherwise (the e-Evidence Regulation's, EU 2023/1543, Art. 10)."""
    if stated is not None:
        return stated
    return received_at + (timedelta(hours=8) if emergency else timedelta(days=10))


def open_disclosure(intake: Intake, *, actor: Actor, user_id: int) -> Request:
    """Open a disclosure record with its deadline, in the caller's transaction."""
    case = engine.open_request("disclosure", actor=actor, requester_email="",
                               requester_name=intake.authority,
                               received_at=intake.received_at)
    case.due_at = due_at(intake.received_at, intake.emergency, intake.deadline)
    db.session.add(Disclosure(
        request_id=case.id, opened_by=user_id, channel=intake.channel,
        authority=intake.authority, officer=intake.officer, contact=intake.contact,
        country=intake.country, authenticity_check=intake.authenticity_check,
        authenticity_result=intake.authenticity_result, instrument=intake.instrument,
        citation=intake.citation, emergency=intake.emergency, targets=intake.targets,
        range_from=intake.range_from, range_to=intake.range_to, data_types=intake.data_types,
        notify_email=intake.notify_email,
        subject_keys=sorted(_keys(intake.targets, intake.notify_email))))
    return case


def record_of(request: Request) -> Disclosure:
    """The register entry of a disclosure request."""
    found = db.session.get(Disclosure, request.id)
    if found is None:
        raise LookupError(f"request {request.id} has no disclosure record")
    return found


def _keys(targets: list[dict[str, str]], *emails: str | None) -> set[str]:
    keys = {f"{t['kind']}:{t['value'].strip().lower()}" for t in targets}
    return keys | {f"email:{e.lower()}" for e in emails if e}


def narrowed(record: Disclosure) -> bool:
    """Tell whether legal approved less than the authority asked for."""
    if record.approved_targets is None and record.approved_types is None:
        return False  # approved as asked
    return ((record.approved_targets is not None and record.approved_targets != record.targets)
            or (record.approved_types is not None
                and sorted(record.approved_types) != sorted(record.data_types))
            or record.approved_from != record.range_from or record.approved_to != record.range_to)


def scope(request: Request) -> tuple[SubjectIdentity, Any]:
    """Whom the sources are asked about, and which findings may be kept: the approved
    targets, and the categories of the approved kinds of data inside the approved range."""
    record = record_of(request)
    targets = record.approved_targets or []
    by_kind: dict[str, list[str]] = {}
    for target in targets:
        by_kind.setdefault(target["kind"], []).append(target["value"])
    identity = SubjectIdentity.of(*by_kind.get("email", []),
                                  customer_ids=by_kind.get("customer_id", []),
                                  ips=by_kind.get("ip", []))
    categories = {c for kind in record.approved_types or [] for c in DATA_TYPES[kind][1]}
    start, end = record.approved_from, record.approved_to

    def keep(finding: Finding) -> bool:
        # dsr's own records of the person (their requests to the privacy team) are not
        # the traffic or content an authority may ask the provider for.
        if finding.category not in categories or finding.source == OWN:
            return False
        if finding.category in UNDATED or (start is None and end is None):
            return True
        # Dated activity must fall in the range; what cannot be dated is left out.
        days = [day for k in DATED_BY if (day := _day(finding.context.get(k)))]
        return bool(days) and any((start is None or day >= start) and (end is None or day <= end)
                                  for day in days)

    return identity, keep


def _day(value: object) -> date | None:
    """The day an adapter's timestamp (ISO date or date and time) falls on, if it is one."""
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def approved_keys(record: Disclosure) -> set[str]:
    """The approved targets (and the address given for the notice) as restriction keys."""
    return _keys(record.approved_targets or [], record.notify_email)


def notice_addresses(record: Disclosure) -> list[str]:
    """Where the subject is told: the address given at intake, else every e-mail address of
    the approved targets and of the accounts the package concerns."""
    if record.notify_email:
        return [record.notify_email]
    return sorted(k.removeprefix("email:") for k in record.subject_keys if k.startswith("email:"))


def seal_package(request: Request) -> None:
    """Build the package from what collection kept, with its manifest (categories and record
    counts) and SHA-256, and the accounts it concerns; the package itself is kept for legal
    to deliver."""
    record = record_of(request)
    items = found_items(request)
    body = {
        "reference": request.reference,
        "authority": record.authority,
        "instrument": record.instrument,
        "citation": record.citation,
        "generated_at": utcnow().isoformat(),
        "records": [{"category": i.category, "label": i.label, "value": i.value,
                     "source": i.source, "context": i.context} for i in items],
    }
    record.package = json.dumps(body, sort_keys=True, ensure_ascii=False,
                                separators=(",", ":")).encode()
    record.package_sha256 = hashlib.sha256(record.package).hexdigest()
    counts: dict[str, int] = {}
    for item in items:
        counts[item.category] = counts.get(item.category, 0) + 1
    record.manifest = {"categories": counts, "records": len(items)}
    keys = _account_keys(items)
    # Accounts as the billing source knows them; data found outside any account is one.
    record.accounts = len({k for k in keys if k.startswith("customer_id:")}) or int(bool(items))
    record.subject_keys = sorted(approved_keys(record) | keys)


def _account_email(item: FoundItem) -> bool:
    source = configured().get(item.source)
    return bool(source and source.identifies == item.record_kind
                and item.category == Category.EMAIL.value)


def _account_keys(items: list[FoundItem]) -> set[str]:
    """The customer accounts the package concerns (numbers and account e-mail addresses), as
    keys an access request can match."""
    sources = configured()
    accounts = {f"customer_id:{i.record_key}" for i in items
                if (s := sources.get(i.source)) and s.identifies == i.record_kind}
    return accounts | {f"email:{i.value.lower()}" for i in items if _account_email(i)}


def outcome(request: Request, record: Disclosure) -> str | None:
    """The outcome as the transparency report counts it; None while undecided."""
    if request.state in ("refused", "withdrawn"):
        return request.state
    if record.manifest is None or request.state not in (
            "disclosed", "subject_notified", "notification_deferred", "closed"):
        return None
    if not record.manifest.get("records"):
        return "no data"
    return "some data" if narrowed(record) else "all data"


def restricting(access: Request, customer_ids: set[str]) -> list[Request]:
    """Disclosures the subject of an access request may not learn of yet (Art. 23): those
    not refused or withdrawn whose subject has not been told, that concern this address or
    one of these customer accounts."""
    keys = {f"email:{access.requester_email.lower()}"} | {f"customer_id:{c}"
                                                          for c in customer_ids}
    rows = db.session.execute(
        select(Request, Disclosure).join(Disclosure, Disclosure.request_id == Request.id)
        .where(Request.state.in_(NOT_NOTIFIED))).all()
    return [case for case, record in rows if keys & set(record.subject_keys)]


def told(access: Request, customer_ids: set[str]) -> list[dict[str, Any]]:
    """Disclosures the subject has been told of, as the access report names them."""
    keys = {f"email:{access.requester_email.lower()}"} | {f"customer_id:{c}"
                                                          for c in customer_ids}
    rows = db.session.execute(
        select(Request, Disclosure).join(Disclosure, Disclosure.request_id == Request.id)
        .where(Request.state.in_(("subject_notified", "closed")),
               Disclosure.notified_at.is_not(None))
        .order_by(Disclosure.delivered_at)).all()
    return [{"authority": record.authority, "country": record.country,
             "instrument": INSTRUMENTS[record.instrument],
             "disclosed_on": record.delivered_at.date().isoformat()
             if record.delivered_at else None,
             "kinds_of_data": [DATA_TYPES[t][0] for t in record.approved_types or []]}
            for case, record in rows if keys & set(record.subject_keys)]


def gag_lapsed(record: Disclosure, today: date | None = None) -> bool:
    """Tell whether no gag order holds the subject's notice back (any more)."""
    return record.gag_until is None or record.gag_until <= (today or utcnow().date())


def notify_due(actor: Actor) -> list[Request]:
    """Tell the subjects of deferred disclosures whose gag order has lapsed; commit each."""
    rows = db.session.execute(
        select(Request).join(Disclosure, Disclosure.request_id == Request.id)
        .where(Request.state == "notification_deferred",
               Disclosure.gag_until <= utcnow().date())
        .order_by(Disclosure.gag_until, Request.id)).scalars().all()
    told = []
    for case in rows:
        try:
            engine.fire(case, "notify_subject", actor=actor)
            audit.record("disclosure.gag_lapsed", actor=actor, request_id=case.id)
            db.session.commit()
            told.append(case)
        except engine.TransitionError:  # left for legal, listed among the lapsed orders
            db.session.rollback()
    return told


def lapsing(within: timedelta) -> list[tuple[Request, Disclosure]]:
    """Deferred notices whose gag order lapses within `within` (or has), soonest first: legal
    confirm they may go, or extend the order."""
    rows = db.session.execute(
        select(Request, Disclosure).join(Disclosure, Disclosure.request_id == Request.id)
        .where(Request.state == "notification_deferred",
               Disclosure.gag_until <= utcnow().date() + within)
        .order_by(Disclosure.gag_until)).all()
    return [(case, record) for case, record in rows]
