"""Collection: ask every source of a request what it holds on the subject, concurrently, each
with a time limit, and store what came back and how each source fared.

Sources that know the customer account (`identifies` in SOURCES) are asked first, by the
verified e-mail address; the customer numbers and account IP addresses they hold then widen
the identity every other source is asked with. collect() is a job, like a command: it commits
as it goes, so that staff see a collection in progress. A failed source is retried alone.
"""

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import replace

from flask import current_app
from sqlalchemy import delete, select

from dsr import audit
from dsr.actors import Actor
from dsr.adapters import Finding, Findings, SourceAdapter, SourceError, SubjectIdentity
from dsr.adapters.registry import Source, configured
from dsr.categories import Category, mask
from dsr.database import utcnow
from dsr.extensions import db
from dsr.models import FoundItem, Request, SourceRun

log = logging.getLogger(__name__)

_Outcome = tuple[list[Finding], list[str]]
Keep = Callable[[Finding], bool]


def _lookup(adapter: SourceAdapter, subject: SubjectIdentity) -> _Outcome:
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
    """The identity the requester proved: the address the confirmation link reached."""
    return SubjectIdentity.of(request.requester_email)


def widened(request: Request, subject: SubjectIdentity, found: Iterable[Finding] = ()
            ) -> SubjectIdentity:
    """Add the customer numbers and account IPs that identifying sources found: stored for
    the request, or just `found` (what a narrowed collection does not store)."""
    customer_ids, ips = set(subject.customer_ids), set(subject.ips)
    sources = configured()
    stored = db.session.execute(select(FoundItem).where(
        FoundItem.request_id == request.id,
        FoundItem.source.in_([s.name for s in sources.values() if s.identifies]))).scalars()
    seen = [(i.source, i.record_kind, i.record_key, i.category, i.value) for i in stored]
    seen += [(f.source, f.record.kind, f.record.key, f.category.value, f.value) for f in found]
    for source_name, kind, key, category, value in seen:
        source = sources.get(source_name)
        if source is None or source.identifies is None:
            continue
        if kind == source.identifies:
            customer_ids.add(key)
        if category == Category.IP.value:
            ips.add(value)
    return replace(subject, customer_ids=frozenset(customer_ids), ips=frozenset(ips))


def collect(
    request: Request, *, actor: Actor, sources: Iterable[str] | None = None,
    subject: SubjectIdentity | None = None, keep: Keep | None = None,
) -> dict[str, SourceRun]:
    """Ask `sources` (default: every configured source) about the request's subject (or
    `subject`); store only the findings `keep` accepts, if given."""
    available = configured()
    names = sorted(sources if sources is not None else available)
    unknown = set(names) - set(available)
    if unknown:
        raise ValueError(f"no such source: {', '.join(sorted(unknown))}")
    if keep is not None or any(available[name].identifies for name in names):
        # What an identifying source finds widens everyone else's search: ask them all again.
        names = sorted(available)
    subject = subject or subject_of(request)
    runs = runs_of(request)
    for name in names:
        if name not in runs:
            runs[name] = SourceRun(request_id=request.id, source=name, attempts=0)
            db.session.add(runs[name])
        run = runs[name]
        run.state, run.error, run.warnings, run.finished_at = "running", None, [], None
        run.started_at, run.attempts = utcnow(), run.attempts + 1
    audit.record("collection.started", actor=actor, request_id=request.id, sources=names)
    db.session.commit()

    first = [available[n] for n in names if available[n].identifies]
    rest = [available[n] for n in names if not available[n].identifies]
    # Widen by everything the identifying sources found, also what `keep` does not store.
    found = _ask(request, first, subject, runs, actor, keep)
    _ask(request, rest, widened(request, subject, found), runs, actor, keep)
    return runs


def _ask(request: Request, sources: list[Source], subject: SubjectIdentity,
         runs: dict[str, SourceRun], actor: Actor, keep: Keep | None) -> list[Finding]:
    """Ask `sources` at once, wait at most SOURCE_TIMEOUT, record each outcome, commit."""
    if not sources:
        return []
    answered: list[Finding] = []
    timeout = float(current_app.config["SOURCE_TIMEOUT"])
    pool = ThreadPoolExecutor(max_workers=min(len(sources), 8), thread_name_prefix="dsr-collect")
    futures: dict[str, Future[_Outcome]] = {
        s.name: pool.submit(_lookup, s.adapter, subject) for s in sources
    }
    wait(futures.values(), timeout=timeout)
    # A source that has not answered by now is recorded as failed; its thread is left to end
    # on its own (a thread cannot be stopped), and whatever it returns later is ignored.
    pool.shutdown(wait=False, cancel_futures=True)

    for name, future in futures.items():
        run = runs[name]
        run.finished_at = utcnow()
        if not future.done():
            _fail(request, run, f"{name}: no answer within {timeout:g} seconds.", actor)
            continue
        try:
            findings, warnings = future.result()
        except SourceError as error:
            _fail(request, run, str(error), actor)
            continue
        except Exception as error:  # an adapter's bug must not stop the other sources
            # The type only: an exception's message may quote personal data.
            log.error("source %s failed unexpectedly: %s", name, type(error).__name__)
            _fail(request, run, f"{name}: unexpected error in the adapter "
                                f"({type(error).__name__}).", actor)
            continue
        answered += findings
        if keep is not None:
            findings = [f for f in findings if keep(f)]
        _store(request, name, findings)
        run.state, run.findings, run.warnings = "done", len(findings), warnings
        audit.record("collection.source_done", actor=actor, request_id=request.id,
                     source=name, count=len(findings))
    db.session.commit()
    return answered


def _fail(request: Request, run: SourceRun, message: str, actor: Actor) -> None:
    run.state, run.error = "failed", message
    audit.record("collection.source_failed", actor=actor, request_id=request.id,
                 source=run.source)


def _store(request: Request, source: str, findings: list[Finding]) -> None:
    """Replace what `source` found for the request with `findings`."""
    db.session.execute(
        delete(FoundItem).where(FoundItem.request_id == request.id, FoundItem.source == source)
    )
    db.session.add_all(
        FoundItem(
            request_id=request.id, source=source, category=f.category.value, label=f.label,
            value=f.value, record_kind=f.record.kind, record_key=f.record.key,
            record_field=f.record.field, context=dict(f.context),
        )
        for f in findings
    )


def finish_if_complete(request: Request, runs: dict[str, SourceRun]) -> bool:
    """Move a collecting request on to review once every source answered; commit. With no
    source configured nothing was asked, and staff decide themselves."""
    from dsr import engine

    follows = any(t["trigger"] == "finish_collection"
                  for t in engine.workflow_for(request.type)["transitions"])
    if not follows or request.state != "collecting" or not runs \
            or any(r.state != "done" for r in runs.values()):
        return False
    from dsr.actors import SYSTEM

    engine.fire(request, "finish_collection", actor=SYSTEM)
    db.session.commit()
    return True


def run_job(request_id: int, actor: Actor, sources: list[str] | None = None) -> None:
    """Collect for one request and move it on when complete (a job: it owns its session)."""
    request = db.session.get(Request, request_id)
    if request is None or request.state != "collecting":
        return
    if request.type == "disclosure":  # only what legal approved, about whom they approved
        from dsr.disclosures import scope

        subject, keep = scope(request)
        runs = collect(request, actor=actor, sources=sources, subject=subject, keep=keep)
    else:
        runs = collect(request, actor=actor, sources=sources)
    finish_if_complete(request, runs_of(request) if sources else runs)


def start(request: Request, actor: Actor, sources: list[str] | None = None) -> None:
    """Run collection for `request` after the caller's commit (a job, see dsr.jobs)."""
    from dsr.jobs import launch

    launch(f"collection-{request.id}", run_job, request.id, actor, sources)
