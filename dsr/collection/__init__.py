"""Collection: ask every source of a request what it holds on the subject, each with a time
limit, and store what came back and how each source fared.

Sources that know the customer account (`identifies` in SOURCES) are asked first, by the
verified e-mail address; the customer numbers and account IP addresses they hold then widen
the identity every other source is asked with. start() hands one job per source to the queue
(dsr.collection.jobs); collect() asks them at once in threads, for commands and benchmarks.
A failed source is retried alone. A scope (a function named by its dotted path) narrows whom
the sources are asked about and which findings are kept; a follow-up trigger is fired once
every source answered. Collection knows neither: the workflow that starts it names them.
"""

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import replace
from datetime import timedelta
from typing import cast

from flask import current_app
from sqlalchemy import delete, select, update

from dsr import audit, engine
from dsr.actors import Actor
from dsr.adapters import (
    ClaimedIp,
    Finding,
    Findings,
    SourceAdapter,
    SourceError,
    SubjectIdentity,
    searched_by,
)
from dsr.adapters.redaction import OWN_FACTS, Redaction
from dsr.adapters.registry import Source, configured
from dsr.categories import Category, mask
from dsr.database import insert_rows, utcnow
from dsr.extensions import db
from dsr.jobs import declare as declare_job
from dsr.models import FoundItem, Request, SourceRun
from dsr.models.collection import record_date
from dsr.names import resolve

log = logging.getLogger(__name__)

Outcome = tuple[list[Finding], list[str]]
Keep = Callable[[Finding], bool]
Scope = Callable[[Request], tuple[SubjectIdentity, Keep | None]]
ASK = "dsr.collection.jobs.ask"


def lookup(adapter: SourceAdapter, subject: SubjectIdentity) -> Outcome:
    """Ask one adapter; return its findings and warnings."""
    found = adapter.lookup(subject)
    return list(found), list(found.warnings) if isinstance(found, Findings) else []


def runs_of(request: Request) -> dict[str, SourceRun]:
    """Return the request's source runs by source name."""
    rows = db.session.execute(
        select(SourceRun).where(SourceRun.request_id == request.id)
    ).scalars()
    return {run.source: run for run in rows}


def found_items(request: Request) -> list[FoundItem]:
    """Return what collection found for the request, in the order it was stored."""
    return list(db.session.execute(
        select(FoundItem).where(FoundItem.request_id == request.id).order_by(FoundItem.id)
    ).scalars())


def shown_value(item: FoundItem, revealed: bool) -> str:
    """The value as staff see it: ID and bank details masked until revealed."""
    return item.value if revealed or not Category(item.category).masked else mask(item.value)


def for_display(items: list[FoundItem], revealed: bool) -> list[FoundItem]:
    """The items as staff see them: detached from the session and masked where they must be
    (masking must never be written back)."""
    for item in items:
        if not revealed and Category(item.category).masked:
            db.session.expunge(item)
            item.value = shown_value(item, revealed)
    return items


def subject_of(request: Request) -> SubjectIdentity:
    """The identity the requester proved (the address the confirmation link reached), with
    what they gave to be found as a visitor: the visitor IDs their browser presented and the
    IP addresses they named, with the days of their visits."""
    given = request.visitor_identifiers or {}
    return SubjectIdentity.of(
        request.requester_email, visitor_ids=given.get("visitor_ids", []),
        claimed_ips=[ClaimedIp.from_json(claim) for claim in given.get("claimed_ips", [])])


def scoped(request: Request, scope: str | None) -> tuple[SubjectIdentity, Keep | None]:
    """Whom to ask about and what to keep: as the scope named says, else the requester and
    everything."""
    if scope is None:
        return subject_of(request), None
    return cast(Scope, resolve(scope))(request)


def widened(request: Request, subject: SubjectIdentity) -> SubjectIdentity:
    """Add the customer numbers and account IPs that the request's identifying sources found
    (kept on their runs, also what a narrowed collection does not store)."""
    customer_ids, ips = set(subject.customer_ids), set(subject.ips)
    for run in runs_of(request).values():
        customer_ids.update(run.identity.get("customer_ids", []))
        ips.update(run.identity.get("ips", []))
    return replace(subject, customer_ids=frozenset(customer_ids), ips=frozenset(ips))


def forget_identity(request: Request) -> None:
    """Drop what the identifying sources found to widen the others' search, in the caller's
    transaction (a scoped collection keeps no more than it was allowed to)."""
    db.session.execute(
        update(SourceRun).where(SourceRun.request_id == request.id).values(identity={}))


def _identity(source: Source, findings: Iterable[Finding]) -> dict[str, list[str]]:
    """What an identifying source's findings add to the subject's identity."""
    if source.identifies is None:
        return {}
    customer_ids = {f.record.key for f in findings if f.record.kind == source.identifies}
    ips = {f.value for f in findings if f.category == Category.IP}
    return {"customer_ids": sorted(customer_ids), "ips": sorted(ips)}


def _plan(request: Request, sources: Iterable[str] | None, scope: str | None
          ) -> list[str]:
    """The sources to ask: those named (default: all); every one when an identifying source
    is among them or the collection is scoped (what it finds widens the others' search)."""
    available = configured()
    names = sorted(sources if sources is not None else available)
    unknown = set(names) - set(available)
    if unknown:
        raise ValueError(f"no such source: {', '.join(sorted(unknown))}")
    if scope is not None or any(available[name].identifies for name in names):
        names = sorted(available)
    return names


def _begin(request: Request, actor: Actor, names: list[str], state: str, scope: str | None,
           follow_up: str | None) -> dict[str, SourceRun]:
    """Put the runs of `names` in `state` (others keep what they have, and so do runs a job
    holds when queueing), audited; return the request's runs but those held."""
    runs = runs_of(request)
    first = {n for n in names if configured()[n].identifies}
    for name in names:
        if name not in runs:
            runs[name] = SourceRun(request_id=request.id, source=name, attempts=0)
            db.session.add(runs[name])
        run = runs[name]
        if state == "queued" and busy(run):
            del runs[name]  # a job has it: asked again, it would be asked twice at once
            continue
        run.state = state if (name in first or not first or state == "running") else "waiting"
        run.error, run.warnings, run.finished_at, run.started_at = None, [], None, utcnow()
        run.scope, run.follow_up = scope, follow_up
        if state == "running":
            run.attempts += 1
    # Only the sources asked now: one a job still holds is not started again.
    audit.record("collection.started", actor=actor, request_id=request.id,
                 sources=[name for name in names if name in runs])
    db.session.flush()
    return runs


def busy(run: SourceRun) -> bool:
    """Tell whether a job holds the run: queued or waiting for one, or asking the source now
    (within its lease)."""
    lease = timedelta(seconds=float(current_app.config["JOB_LEASE_SECONDS"]))
    return run.state in ("queued", "waiting") or (
        run.state == "running" and run.started_at >= utcnow() - lease)


def ended(request: Request) -> bool:
    """Tell whether the request ended (a final state of its workflow): nothing more is
    collected for it."""
    return request.state in engine.workflow_for(request.type)["final"]


def start(request: Request, actor: Actor, sources: Iterable[str] | None = None, *,
          scope: str | None = None, then: str | None = None) -> None:
    """Queue the collection of `sources` (default: every source), in the caller's
    transaction: one job per source, the identifying ones first. A retry of some sources
    asks as the collection they belong to was started (its scope and follow-up)."""
    earlier = next(iter(runs_of(request).values()), None)
    if sources is not None and earlier is not None:
        scope, then = earlier.scope, earlier.follow_up
    names = _plan(request, sources, scope)
    runs = _begin(request, actor, names, "queued", scope, then)
    for name in names:
        if name in runs and runs[name].state == "queued":
            declare_job(ASK, runs[name].id, actor.ref)


def collect(
    request: Request, *, actor: Actor, sources: Iterable[str] | None = None,
    scope: str | None = None,
) -> dict[str, SourceRun]:
    """Ask `sources` (default: every configured source) now, at once, each within
    SOURCE_TIMEOUT, and store what they found; commits as it goes, like a command."""
    available = configured()
    names = _plan(request, sources, scope)
    runs = _begin(request, actor, names, "running", scope, None)
    db.session.commit()
    subject, keep = scoped(request, scope)
    first = [available[n] for n in names if available[n].identifies]
    rest = [available[n] for n in names if not available[n].identifies]
    _ask(request, first, subject, runs, actor, keep)
    _ask(request, rest, widened(request, subject), runs, actor, keep)
    if scope is not None:
        forget_identity(request)
        db.session.commit()
    return runs


def _ask(request: Request, sources: list[Source], subject: SubjectIdentity,
         runs: dict[str, SourceRun], actor: Actor, keep: Keep | None) -> None:
    """Ask `sources` at once, wait at most SOURCE_TIMEOUT, record each outcome, commit."""
    if not sources:
        return
    timeout = float(current_app.config["SOURCE_TIMEOUT"])
    pool = ThreadPoolExecutor(max_workers=min(len(sources), 8), thread_name_prefix="dsr-collect")
    futures: dict[str, Future[Outcome]] = {
        s.name: pool.submit(lookup, s.adapter, subject) for s in sources
    }
    wait(futures.values(), timeout=timeout)
    # A source that has not answered by now is recorded as failed; its thread is left to end
    # on its own (a thread cannot be stopped), and whatever it returns later is ignored.
    pool.shutdown(wait=False, cancel_futures=True)
    for source in sources:
        record(request, source, runs[source.name], subject, futures[source.name], timeout,
               actor, keep)
    db.session.commit()


def record(request: Request, source: Source, run: SourceRun, subject: SubjectIdentity,
           future: Future[Outcome], timeout: float, actor: Actor, keep: Keep | None) -> None:
    """Record how one source's lookup for `subject` went, what it was searched by, and store
    what it found (only what `keep` accepts, if given), in the caller's transaction."""
    name = source.name
    run.finished_at = utcnow()
    run.searched = {key: len(getattr(subject, key)) for key in sorted(searched_by(source.adapter))
                    if getattr(subject, key)}
    if not future.done():
        _fail(request, run, f"{name}: no answer within {timeout:g} seconds.", actor)
        return
    try:
        findings, warnings = future.result()
    except SourceError as error:
        _fail(request, run, str(error), actor)
        return
    except Exception as error:  # an adapter's bug must not stop the other sources
        # The type only: an exception's message may quote personal data.
        log.error("source %s failed unexpectedly: %s", name, type(error).__name__)
        _fail(request, run, f"{name}: unexpected error in the adapter "
                            f"({type(error).__name__}).", actor)
        return
    run.identity = _identity(source, findings)
    if keep is not None:
        findings = [f for f in findings if keep(f)]
    _store(request, name, findings,
           None if getattr(source.adapter, "told_already", False)
           else _redaction(request, subject, findings))
    run.state, run.findings, run.warnings = "done", len(findings), warnings
    audit.record("collection.source_done", actor=actor, request_id=request.id,
                 source=name, count=len(findings))


def _fail(request: Request, run: SourceRun, message: str, actor: Actor) -> None:
    run.state, run.error = "failed", message
    audit.record("collection.source_failed", actor=actor, request_id=request.id,
                 source=run.source)


def _redaction(request: Request, subject: SubjectIdentity, findings: list[Finding]
               ) -> Redaction:
    """What takes other people out of the free text the request's sources return: the
    subject's own identifiers are those they were asked by, those the identifying sources
    found, and every structured fact stored for the request or just found (a source returns
    only the subject's); the other people are those behind dsr's other requests, by the names
    they gave and the names their sources hold."""
    stored = db.session.execute(select(FoundItem.category, FoundItem.value).where(
        FoundItem.request_id == request.id, FoundItem.category.in_([c.value for c in OWN_FACTS])))
    facts = [(Category(category), value) for category, value in stored] + \
        [(f.category, f.value) for f in findings]
    return Redaction.beside(widened(request, subject), facts, names=[request.requester_name],
                            others=_other_people(request),
                            staff_domains=current_app.config["STAFF_EMAIL_DOMAINS"])


def _other_people(request: Request) -> set[str]:
    """The names of the people behind dsr's other requests (not the same address's): as they
    gave them and as their sources hold them."""
    others = select(Request.id).where(Request.id != request.id,
                                      Request.requester_email != request.requester_email)
    given = db.session.execute(
        select(Request.requester_name).where(Request.id.in_(others)).distinct()).scalars()
    held = db.session.execute(
        select(FoundItem.value).where(FoundItem.request_id.in_(others),
                                      FoundItem.category == Category.NAME.value).distinct()
    ).scalars()
    return {name for name in (*given, *held) if name}


def _store(request: Request, source: str, findings: list[Finding],
           redaction: Redaction | None) -> None:
    """Replace what `source` found for the request with `findings`, other people taken out
    of their free text (GDPR Art. 15(4)) unless the source holds only what the subject wrote
    or was sent (its `told_already`)."""
    stored = findings if redaction is None else map(redaction.finding, findings)
    db.session.execute(
        delete(FoundItem).where(FoundItem.request_id == request.id, FoundItem.source == source)
    )
    # Rows, not an ORM object per finding: a heavy subject has tens of thousands, each
    # redacted and made a row only as it is sent.
    request_id = request.id
    insert_rows(db.session.connection(), FoundItem, (
        {"request_id": request_id, "source": source, "category": f.category.value,
         "label": f.label, "value": f.value, "record_kind": f.record.kind,
         "record_key": f.record.key, "record_field": f.record.field,
         "context": dict(f.context), "dated": record_date(f.context), "redactions": [],
         "withheld_ground": None, "withheld_note": None}
        for f in stored
    ))
