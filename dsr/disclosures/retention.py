"""How long the register keeps what a disclosure concerned: by legal's setting
(RETENTION_DAYS["disclosures"]) from when the record ended, and never while a gag order is in
force. Who asked, on what basis, for which kinds of data, what was decided and when stay for
the register and the transparency report; the package, the documents and whom it concerned
go."""

from datetime import datetime

from sqlalchemy import ColumnElement, delete, exists, select

from dsr.database import utcnow
from dsr.disclosures import documents
from dsr.extensions import db
from dsr.models import Disclosure, DisclosureDocument, Request
from dsr.retention import Rule, final_state, mark_purged


def _no_gag(now: datetime) -> ColumnElement[bool]:
    return ~exists().where(Disclosure.request_id == Request.id,
                           Disclosure.gag_until.is_not(None),
                           Disclosure.gag_until > now.date())


def _kinds_only(targets: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{"kind": target["kind"], "value": ""} for target in targets]


def _forget(ids: list[int]) -> None:
    digests = set(db.session.execute(select(DisclosureDocument.sha256).where(
        DisclosureDocument.request_id.in_(ids))).scalars())
    db.session.execute(delete(DisclosureDocument).where(
        DisclosureDocument.request_id.in_(ids)))
    for record in db.session.execute(select(Disclosure).where(
            Disclosure.request_id.in_(ids))).scalars():
        # Each target keeps its kind, so the record still tells whether legal narrowed it.
        record.targets = _kinds_only(record.targets)
        if record.approved_targets is not None:
            record.approved_targets = _kinds_only(record.approved_targets)
        record.package, record.subject_keys, record.notify_email = None, [], None
        record.officer, record.contact, record.narrowing_reason, record.gag_basis = (
            "", "", None, None)
        record.purged_at = utcnow()
    db.session.flush()
    mark_purged(ids, "disclosures", decision_reason=None)
    still_used = set(db.session.execute(select(DisclosureDocument.sha256).where(
        DisclosureDocument.sha256.in_(digests))).scalars())
    for digest in digests - still_used:
        (documents.folder() / digest).unlink(missing_ok=True)


RECORDS = Rule(
    "disclosures",
    deletes="a disclosure record's sealed package, its documents, its targets and whom to "
            "tell, the officer's name and contact, and the reasons written, once it ended",
    keeps="the authority, country, instrument, citation, kinds of data, decision, counts, "
          "dates and the package's SHA-256, and the audit trail",
    table=Request, since=Request.updated_at,
    held=(Request.type == "disclosure", final_state(), Request.purged_at.is_(None)),
    free=_no_gag, purge=_forget)
