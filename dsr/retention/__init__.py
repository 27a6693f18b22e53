"""Retention: what dsr keeps of other people's data, and for how long (GDPR Art. 5(1)(e)).

Each rule names a kind of record, the moment its clock starts, how many days it is kept
(RETENTION_DAYS, or the setting the rule names) and what is deleted and what stays. purge()
deletes what is due in batches, each batch committed with its one audit event (the rule, how
many and which ids, never a value), so a run cut short is taken up by the next and nothing is
purged twice. A purged request keeps its skeleton (reference, type, dates, states and the
audit trail) for accountability, and says when and under which rule it was purged.

These are the rules of records every request has; a workflow declares the rules of its own
records ("retention" in workflows/, by dotted name). dsr never deletes in a source: what the
sources hold past their stated retention is counted for the company to act on (sources.py).
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import import_module
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, and_, delete, exists, func, null, or_, select, update

import workflows
from dsr import audit
from dsr.actors import SYSTEM, Actor
from dsr.database import utcnow
from dsr.extensions import db
from dsr.models import (
    STAFF_TYPES,
    FoundItem,
    OutboxMessage,
    PolicyMailing,
    Request,
    RequestNote,
    SourceRun,
    SubjectSignIn,
)

BATCH = 500


@dataclass(frozen=True)
class Rule:
    """One kind of record: whose clock (`since`) starts when, which rows are still held
    (`held`), what keeps a record however old (`free` says at `now` that nothing does: no
    gag order in force, say), and how they are purged by id (`purge`)."""

    name: str
    deletes: str
    keeps: str
    table: Any
    since: Any
    held: tuple[ColumnElement[bool], ...]
    purge: Callable[[list[int]], None]
    setting: str = "RETENTION_DAYS"
    free: Callable[[datetime], ColumnElement[bool]] | None = None

    def days(self) -> int:
        """How many days a record is kept after its clock starts."""
        value = current_app.config[self.setting]
        return int(value[self.name] if isinstance(value, dict) else value)

    def cutoff(self, now: datetime) -> datetime:
        return now - timedelta(days=self.days())


def final_state() -> ColumnElement[bool]:
    """A request is in one of its workflow's final states (no way out)."""
    return or_(*(and_(Request.type == name, Request.state.in_(workflow["final"]))
                 for name, workflow in workflows.load().items()))


def mark_purged(ids: list[int], rule: str, **values: Any) -> None:
    """Blank `values` of the requests `ids` and mark them purged under `rule`, leaving their
    dates as they were (the skeleton's dates are the request's, not the purge's)."""
    db.session.execute(update(Request).where(Request.id.in_(ids)).values(
        purged_at=utcnow(), purged_by_rule=rule, updated_at=Request.updated_at, **values))


def _forget_requester(ids: list[int]) -> None:
    mark_purged(ids, "unconfirmed_requests", requester_email="", requester_name="",
                message=None, visitor_identifiers=null(), verify_nonce=None)


def _forget_findings(ids: list[int]) -> None:
    db.session.execute(delete(FoundItem).where(FoundItem.request_id.in_(ids)))
    db.session.execute(update(SourceRun).where(SourceRun.request_id.in_(ids))
                       .values(identity={}))


def _forget_closed(ids: list[int]) -> None:
    _forget_findings(ids)
    db.session.execute(delete(RequestNote).where(RequestNote.request_id.in_(ids)))
    mark_purged(ids, "closed_requests", requester_email="", requester_name="", message=None,
                visitor_identifiers=null(), verify_nonce=None, answer=null(),
                decision_reason=None, extension_reason=None)


def _forget_mail(ids: list[int]) -> None:
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids))
                       .values(to_address="", body=""))


def _forget_sign_ins(ids: list[int]) -> None:
    db.session.execute(delete(SubjectSignIn).where(SubjectSignIn.id.in_(ids)))


_HAS_FINDINGS = exists().where(FoundItem.request_id == Request.id)

_SKELETON = "its reference, type, dates and states, and the audit trail"
# A policy notice's address keeps its mailing from telling anyone twice while it lists.
_MAILING_DONE = exists().where(PolicyMailing.id == OutboxMessage.mailing_id,
                               PolicyMailing.state == "done")

RULES = (
    Rule("unconfirmed_requests",
         deletes="the address, name, message and visitor identifiers of a request never "
                 "confirmed",
         keeps=_SKELETON,
         table=Request, since=Request.updated_at,
         held=(Request.state == "expired", Request.verified_at.is_(None),
               Request.purged_at.is_(None)),
         purge=_forget_requester),
    Rule("findings",
         deletes="what collection found for an access request (the findings its released "
                 "answer lists), and the customer numbers and account addresses it searched by",
         keeps="the answer's summary: which sources were searched, how many findings of "
               "which kind each had, and from when",
         table=Request, since=Request.released_at,
         held=(Request.released_at.is_not(None), _HAS_FINDINGS),
         purge=_forget_findings, setting="REPORT_AVAILABLE_DAYS"),
    Rule("closed_requests",
         deletes="the requester's address, name and message, the answer's summary, staff's "
                 "notes and the reasons given, of an access or correction request once it "
                 "ended",
         keeps=_SKELETON + ", and which sources were searched and how many findings each had",
         table=Request, since=Request.updated_at,
         held=(Request.type.in_(STAFF_TYPES), final_state(), Request.purged_at.is_(None)),
         purge=_forget_closed),
    Rule("mail",
         deletes="the address and text of an e-mail that was delivered or refused for good "
                 "(a policy notice's once its mailing is done)",
         keeps="its kind, subject line, dates and outcome",
         table=OutboxMessage, since=func.coalesce(OutboxMessage.sent_at,
                                                  OutboxMessage.created_at),
         held=(OutboxMessage.state.in_(("sent", "bounced")), OutboxMessage.to_address != "",
               or_(OutboxMessage.mailing_id.is_(None), _MAILING_DONE)),
         purge=_forget_mail),
    Rule("sign_ins",
         deletes="a subject's sign-in link record (the address and when it was used)",
         keeps="the audit trail's record that they signed in",
         table=SubjectSignIn, since=SubjectSignIn.created_at, held=(),
         purge=_forget_sign_ins),
)


@cache
def rules() -> tuple[Rule, ...]:
    """Every rule: these, and those each workflow declares for its own records."""
    declared = []
    for workflow in workflows.load().values():
        for dotted in workflow.get("retention", []):
            module, _, name = dotted.rpartition(".")
            declared.append(getattr(import_module(module), name))
    return (*RULES, *declared)


def _held(rule: Rule, now: datetime, *, due: bool) -> list[ColumnElement[bool]]:
    """The conditions of a record the rule holds that is due at `now` (or, not `due`, that
    waits)."""
    cutoff = rule.cutoff(now)
    return [*rule.held, *([rule.free(now)] if rule.free else []), rule.since.is_not(None),
            rule.since <= cutoff if due else rule.since > cutoff]


def _due(rule: Rule, now: datetime) -> Any:
    return select(rule.table.id).where(*_held(rule, now, due=True))


@dataclass(frozen=True)
class Standing:
    """Where one rule stands: how many records are due now, how many wait, and the day the
    next of those comes due."""

    rule: Rule
    due: int
    waiting: int
    next_due: datetime | None


def report(now: datetime | None = None) -> list[Standing]:
    """Every rule's standing at `now`."""
    now = now or utcnow()
    found = []
    for rule in rules():
        due = db.session.execute(select(func.count()).select_from(
            _due(rule, now).subquery())).scalar_one()
        later = select(func.count(rule.table.id), func.min(rule.since)).where(
            *_held(rule, now, due=False))
        waiting, earliest = db.session.execute(later).one()
        found.append(Standing(rule, due, waiting, earliest + timedelta(days=rule.days())
                              if earliest else None))
    return found


def _batches(rule: Rule, now: datetime, size: int) -> Iterator[list[int]]:
    while ids := list(db.session.execute(
            _due(rule, now).order_by(rule.table.id).limit(size)).scalars()):
        yield ids


def purge(*, dry_run: bool = False, batch: int = BATCH, actor: Actor = SYSTEM
          ) -> dict[str, int]:
    """Purge what every rule says is due, each batch committed with its audit event; return
    how many records each rule purged (with `dry_run`, would purge, touching nothing)."""
    now = utcnow()
    if dry_run:
        return {standing.rule.name: standing.due for standing in report(now)}
    purged = {}
    for rule in rules():
        purged[rule.name] = 0
        for ids in _batches(rule, now, batch):
            rule.purge(ids)
            audit.record("retention.purged", actor=actor, code=rule.name, count=len(ids),
                         rows=[str(i) for i in ids])
            db.session.commit()
            purged[rule.name] += len(ids)
    return purged


def purge_due() -> None:
    """The periodic job: purge what is due."""
    purge()
