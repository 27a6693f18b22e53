"""The privacy policy as versioned text: drafts an admin edits, versions published for good
and in force from their effective date, and what the public portal shows of them.

Publishing a version starts its mailing (dsr.policy.notices): every customer is told of it.
A version published while an earlier one still waits for its effective date withdraws that
one: it never takes effect, and the new mailing tells the customers so.
"""

import difflib
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import func, select

from dsr import audit, jobs
from dsr.actors import Actor
from dsr.database import utcnow
from dsr.extensions import db
from dsr.models import PolicyMailing, PolicyVersion
from dsr.policy.notices import LIST

# CommonMark without raw HTML: an admin's text cannot put a script on the public page.
_MARKDOWN = MarkdownIt("commonmark", {"html": False})


class PolicyError(ValueError):
    """A draft cannot be saved or published as it is; the message says why."""


def today() -> date:
    """The company's date now (TIMEZONE): a version takes effect at the start of its day."""
    return datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()


def render(text: str) -> Markup:
    """The policy's Markdown as HTML for a page."""
    return Markup(_MARKDOWN.render(text))  # noqa: S704 (no raw HTML passes the renderer)


def published() -> list[PolicyVersion]:
    """Every published version, newest first."""
    return list(db.session.execute(
        select(PolicyVersion).where(PolicyVersion.number.is_not(None))
        .order_by(PolicyVersion.number.desc())).scalars())


def drafts() -> list[PolicyVersion]:
    """The versions not yet published, newest first."""
    return list(db.session.execute(
        select(PolicyVersion).where(PolicyVersion.number.is_(None))
        .order_by(PolicyVersion.id.desc())).scalars())


def in_force(day: date | None = None) -> PolicyVersion | None:
    """The version that applies on `day` (today): the newest published one that has taken
    effect and was not withdrawn."""
    return db.session.execute(
        select(PolicyVersion)
        .where(PolicyVersion.number.is_not(None), PolicyVersion.withdrawn_at.is_(None),
               PolicyVersion.effective_on <= (day or today()))
        .order_by(PolicyVersion.number.desc()).limit(1)).scalar_one_or_none()


def upcoming(day: date | None = None) -> PolicyVersion | None:
    """The published version that will take effect after `day` (today), if there is one."""
    return db.session.execute(
        select(PolicyVersion)
        .where(PolicyVersion.number.is_not(None), PolicyVersion.withdrawn_at.is_(None),
               PolicyVersion.effective_on > (day or today()))
        .order_by(PolicyVersion.number.desc()).limit(1)).scalar_one_or_none()


def by_number(number: int) -> PolicyVersion | None:
    """The published version `number`."""
    return db.session.execute(
        select(PolicyVersion).where(PolicyVersion.number == number)).scalar_one_or_none()


@dataclass(frozen=True)
class Period:
    """When a published version applied, as the portal lists it."""

    version: PolicyVersion
    status: str  # "in force", "upcoming", "superseded", "withdrawn"
    until: date | None  # the day the next version took effect, for a superseded one


def history(day: date | None = None) -> list[Period]:
    """Every published version, newest first, with what became of it."""
    day = day or today()
    current = in_force(day)
    periods, later = [], None
    for version in published():
        if version.withdrawn_at is not None:
            periods.append(Period(version, "withdrawn", None))
            continue
        if version.effective_on > day:
            status = "upcoming"
        elif current is not None and version.id == current.id:
            status = "in force"
        else:
            status = "superseded"
        periods.append(Period(version, status, later.effective_on if later and
                              status == "superseded" else None))
        if version.effective_on <= day:
            later = version
    return periods


@dataclass(frozen=True)
class Line:
    """One line of a comparison: "same", "added" or "removed"."""

    change: str
    text: str


def compare(old: str, new: str) -> list[Line]:
    """The lines of `new` against `old`, with what was added and removed."""
    before, after = old.splitlines(), new.splitlines()
    lines: list[Line] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag == "equal":
            lines += [Line("same", text) for text in before[a1:a2]]
            continue
        lines += [Line("removed", text) for text in before[a1:a2]]
        lines += [Line("added", text) for text in after[b1:b2]]
    return lines


def _checked(text: str, summary: str, effective_on: date) -> tuple[str, str]:
    text, summary = text.strip(), summary.strip()
    if not text:
        raise PolicyError("The policy's text is empty.")
    if not summary:
        raise PolicyError("Say in a few lines what changes: the e-mail to customers quotes it.")
    if effective_on < today():
        raise PolicyError("The effective date has passed: a version takes effect on a day "
                          "still to come, or today.")
    return text, summary


def save_draft(draft: PolicyVersion | None, *, text: str, summary: str, effective_on: date,
               actor: Actor) -> PolicyVersion:
    """Create or update a draft in the caller's transaction, audited."""
    if draft is not None and draft.published:
        raise PolicyError("A published version is never edited: write a new version.")
    text, summary = _checked(text, summary, effective_on)
    if draft is None:
        assert actor.user_id is not None  # admins only
        draft = PolicyVersion(text=text, summary=summary, effective_on=effective_on,
                              created_by=actor.user_id)
        db.session.add(draft)
    else:
        draft.text, draft.summary, draft.effective_on = text, summary, effective_on
    db.session.flush()
    audit.record("policy.draft_saved", actor=actor, code=f"draft-{draft.id}")
    return draft


def discard(draft: PolicyVersion, *, actor: Actor) -> None:
    """Delete a draft (a published version is never deleted)."""
    if draft.published:
        raise PolicyError("A published version is never deleted.")
    audit.record("policy.draft_discarded", actor=actor, code=f"draft-{draft.id}")
    db.session.delete(draft)


def publish(draft: PolicyVersion, *, actor: Actor) -> PolicyMailing:
    """Publish the draft as the next version in the caller's transaction, withdraw any
    version still waiting for its date, and start the mailing to every customer."""
    if draft.published:
        raise PolicyError("This version is already published.")
    _checked(draft.text, draft.summary, draft.effective_on)
    now = utcnow()
    highest = db.session.execute(select(func.max(PolicyVersion.number))).scalar_one()
    number = (highest or 0) + 1
    pending = db.session.execute(
        select(PolicyVersion).where(PolicyVersion.number.is_not(None),
                                    PolicyVersion.withdrawn_at.is_(None),
                                    PolicyVersion.effective_on > today())).scalars().all()
    for earlier in pending:
        earlier.withdrawn_at, earlier.withdrawn_by_number = now, number
        audit.record("policy.withdrawn", actor=actor, code=f"v{earlier.number}",
                     change=f"v{number}")
    draft.number, draft.published_at, draft.published_by = number, now, actor.user_id
    mailing = PolicyMailing(version_id=draft.id,
                            corrects=",".join(str(v.number) for v in pending))
    db.session.add(mailing)
    db.session.flush()
    audit.record("policy.published", actor=actor, code=f"v{number}")
    jobs.declare(LIST, mailing.id)
    return mailing
