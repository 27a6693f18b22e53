"""Taking a subject's request: open it, and mail the single-use link that confirms it."""

import secrets
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import select

from dsr import corrections, engine, notify
from dsr.actors import SUBJECT
from dsr.adapters import ClaimedIp
from dsr.categories import Category
from dsr.corrections import Proposal
from dsr.extensions import db
from dsr.models import Request
from dsr.subjects.limits import mail_from_form
from dsr.subjects.links import CONFIRMATION


def verification_link(case: Request) -> str:
    """Issue a fresh single-use link that proves the requester reads the address given."""
    case.verify_nonce = secrets.token_urlsafe(16)
    token = CONFIRMATION.issue(r=case.id, n=case.verify_nonce)
    return notify.public_url("portal.verify", token=token)


def submit(kind: str, email: str, name: str, message: str | None,
           proposals: list[Proposal] | None = None, *, visitor_ids: Iterable[str] = (),
           claimed_ips: Iterable[ClaimedIp] = ()) -> Request:
    """Open a request (with its proposed changes, for a correction, and what a visitor gave
    to be found in the analytics) and queue its confirmation e-mail, in the caller's
    transaction. Nothing is looked up: the answer is the same for every address."""
    case = engine.open_request(kind, actor=SUBJECT, requester_email=email, requester_name=name)
    case.message = message or None
    keep_visitor_identifiers(case, visitor_ids, claimed_ips)
    if proposals:
        corrections.propose(case, proposals)
    mail_from_form("verification", case.requester_email, "verify", request_id=case.id,
                   name=case.requester_name, link=verification_link(case),
                   hours=current_app.config["VERIFY_LINK_HOURS"], request_type=case.type,
                   email_change=any(p.category == Category.EMAIL for p in proposals or []))
    return case


def keep_visitor_identifiers(case: Request, visitor_ids: Iterable[str],
                             claimed_ips: Iterable[ClaimedIp]) -> None:
    """Keep on the request the visitor IDs the requester's browser presented and the IP
    addresses they gave with their days (never in the audit trail: they are personal data)."""
    ids, claims = sorted(set(visitor_ids)), sorted(set(claimed_ips))
    if ids or claims:
        case.visitor_identifiers = {"visitor_ids": ids,
                                    "claimed_ips": [claim.as_json() for claim in claims]}


def submit_confirmed(email: str, name: str, proposals: list[Proposal]) -> Request:
    """Open a correction request for a subject signed in through a link to `email`: the
    address is proved, so the request is confirmed at once, unless it would replace that very
    address, which the link to it must confirm afresh (the caller then sees it submitted)."""
    if any(p.category == Category.EMAIL for p in proposals):
        return submit("correction", email, name, None, proposals)
    case = engine.open_request("correction", actor=SUBJECT, requester_email=email,
                               requester_name=name)
    corrections.propose(case, proposals)
    engine.fire(case, "verify", actor=SUBJECT)
    return case


def name_on_file(email: str) -> str:
    """The name given with the latest request from `email`, for a request made while signed
    in (where nobody types one)."""
    return db.session.execute(
        select(Request.requester_name).where(Request.requester_email == email)
        .order_by(Request.received_at.desc()).limit(1)
    ).scalar_one_or_none() or ""
