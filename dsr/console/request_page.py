"""The staff console's page of one request, rendered by the console's views and by the review
of corrections alike: the request found by its reference, its facts, findings, notes and, for a
correction, each proposed change."""

from collections.abc import Callable
from typing import Any

from flask import abort, render_template, session
from flask_login import current_user
from sqlalchemy import select

from dsr import collection, corrections, disclosures, engine, jobs
from dsr.actors import Actor
from dsr.categories import Category, mask
from dsr.console.forms import NoteForm, TransitionForm, WithholdForm
from dsr.database import utcnow
from dsr.extensions import db
from dsr.models import (
    STAFF_TYPES,
    FoundItem,
    ProposedChange,
    RecipientNotice,
    Request,
    RequestNote,
    User,
)
from dsr.models.collection import GROUNDS
from dsr.report import account_ids
from dsr.web.request_view import viewed


def staff_request(reference: str) -> Request:
    """The request staff work on with this reference; 404 for none (or a disclosure)."""
    return engine.find_request(reference, STAFF_TYPES) or abort(
        404, description="There is no request with that reference."
    )


def answered_states() -> set[str]:
    """The states in which a request of any staff type counts as answered."""
    return {s for kind in STAFF_TYPES for s in engine.workflow_for(kind)["answered"]}


def render_request(
    case: Request, form: TransitionForm | None = None, status: int = 200,
    note: NoteForm | None = None, kept: dict[int, str | None] | None = None,
    withholding: tuple[int, WithholdForm] | None = None,
) -> tuple[str, int]:
    """Render the request page, and audit the view: it shows personal data. `kept` holds
    reasons typed for changes' decisions that were refused, to show again; `withholding` the
    finding and form of a refused withholding."""
    actor = Actor.for_user(current_user)
    shown = viewed(case, actor, "request.view")
    revealed = case.reference in session.get("revealed", [])
    return (
        render_template(
            "console/request.html",
            case=case,
            form=form or TransitionForm(),
            findings=_grouped_findings(case, revealed),
            revealed=revealed,
            notes=_notes(case),
            # A run still "running" past its lease lost its consumer: offer a retry.
            stale_before=jobs.stale_before(),
            note_form=note or NoteForm(),
            now=utcnow(),
            answered=answered_states(),
            kept=kept or {},
            withhold_form=withhold_form(withholding),
            grounds=GROUNDS,
            restricted=case.type == "access"
            and bool(disclosures.restricting(case, account_ids(case))),
            **shown,
            **_review_context(case, revealed),
        ),
        status,
    )


def withhold_form(refused: tuple[int, WithholdForm] | None) -> Callable[[int], WithholdForm]:
    """The withholding form of each finding: the one refused as it was typed, else empty."""
    def form(item_id: int) -> WithholdForm:
        if refused is not None and refused[0] == item_id:
            return refused[1]
        return WithholdForm(formdata=None, prefix=f"item{item_id}")
    return form


def _grouped_findings(case: Request, revealed: bool) -> list[tuple[Category, list[FoundItem]]]:
    """The request's findings by category, in the vocabulary's order, ID and bank details
    masked unless revealed (for a correction, only the facts that can be corrected)."""
    grouped: dict[Category, list[FoundItem]] = {}
    for item in collection.for_display(collection.found_items(case), revealed):
        if case.type == "correction" and Category(item.category).is_activity:
            continue  # a record of what happened is not corrected: leave it off this page
        grouped.setdefault(Category(item.category), []).append(item)
    return [(c, grouped[c]) for c in Category if c in grouped]


def _notes(case: Request) -> list[tuple[RequestNote, str]]:
    """The request's notes, oldest first, with their authors' addresses."""
    rows = db.session.execute(
        select(RequestNote, User.email).join(User, User.id == RequestNote.author_id)
        .where(RequestNote.request_id == case.id).order_by(RequestNote.id)
    ).all()
    return [(note, email) for note, email in rows]


def _review_context(case: Request, revealed: bool) -> dict[str, Any]:
    """What the request page shows of a correction request: each change with the values the
    sources hold in its category, the recipients told, and the forms."""
    if case.type != "correction":
        return {}
    changes = []
    for change in corrections.changes_of(case):
        items = corrections.candidates(case, change)
        chosen = corrections.preselected(change, items) if change.state == "proposed" \
            else corrections.chosen(change, items)  # on the values, before they are masked
        changes.append({
            "change": change, "category": Category(change.category),
            "candidates": collection.for_display(items, revealed), "chosen": chosen,
            "proposed": change.proposed_value if revealed or not Category(change.category).masked
            else mask(change.proposed_value),
        })
    notices = db.session.execute(
        select(RecipientNotice).where(RecipientNotice.request_id == case.id)
        .order_by(RecipientNotice.id)).scalars().all()
    return {"changes": changes, "notices": notices, "writable": corrections.writable,
            "cooling_off": cooling_off}


def cooling_off(change: ProposedChange) -> bool:
    """Tell whether the change must not be made yet (its old address may still stop it)."""
    return change.apply_after is not None and change.apply_after > utcnow()
