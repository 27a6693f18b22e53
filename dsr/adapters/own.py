"""The dsr adapter: dsr's own records about the subject, a source of every answer. Their
requests (earlier ones and this one), what they wrote, each step and the reasons given, the
corrections they proposed and what was decided, the e-mails dsr sent them (every link that
carries a token replaced by "[link]") and the sign-in links they asked for. Only requests made
from one of the subject's addresses; never a disclosure to an authority (the answer tells of
those the subject may be told of, apart)."""

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from flask import Flask
from flask.ctx import AppContext
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from dsr import engine
from dsr.adapters import (
    AdapterConfigError,
    Finding,
    Health,
    RecordRef,
    SourceUnavailable,
    SubjectIdentity,
)
from dsr.categories import Category
from dsr.extensions import db
from dsr.models import AuditEvent, OutboxMessage, ProposedChange, Request, SubjectSignIn
from dsr.models.requests import RequestType

LINK = re.compile(r"https?://[^\s<>\"')\]]+")
HIDDEN_LINK = "[link]"


def when(moment: datetime | None, missing: str = "") -> str:
    """A moment as the answer states it."""
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else missing


def readable(state: str) -> str:
    """A workflow state or a change's state as a person reads it."""
    return state.replace("_", " ")


class OwnRecordsAdapter:
    """Read dsr's own database, through its models, for what it holds on the subject.

    It reads in an app context of its own (collection asks sources in threads), so it is bound
    to its app by `init_app`; it has no settings.
    """

    searches = frozenset({"emails"})
    # Everything it returns the subject wrote, gave or was sent by dsr: nothing in it is
    # news to them, so none of it is redacted (their proposed values are their own).
    told_already = True

    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        if settings:
            raise AdapterConfigError(
                f"setting {sorted(settings)[0]!r} is unknown: the dsr adapter takes no settings.")
        self.name = name
        self._app: Flask | None = None

    def init_app(self, app: Flask) -> None:
        """Read the database of `app`."""
        self._app = app

    def lookup(self, subject: SubjectIdentity) -> list[Finding]:
        """Return the subject's requests and everything dsr recorded with them."""
        if not subject.emails:
            return []
        with self._context():
            try:
                return self._findings(subject)
            except SQLAlchemyError as error:
                raise SourceUnavailable(
                    f"{self.name}: dsr's own database did not answer "
                    f"({type(error).__name__}).") from None

    def check(self) -> Health:
        """Count the requests in dsr's own database."""
        try:
            with self._context():
                count = db.session.execute(select(func.count(Request.id))).scalar_one()
        except (SQLAlchemyError, SourceUnavailable) as error:
            return Health(False, f"{self.name}: dsr's own database did not answer "
                                 f"({type(error).__name__}).")
        return Health(True, f"dsr's own database answered ({count} requests).")

    def _context(self) -> AppContext:
        """A context of its own: lookups run in collection's threads, which have none."""
        if self._app is None:
            raise SourceUnavailable(f"{self.name}: the adapter is bound to no app.")
        return self._app.app_context()

    def _findings(self, subject: SubjectIdentity) -> list[Finding]:
        emails = sorted(subject.emails)
        requests = list(db.session.execute(
            select(Request)
            .where(func.lower(Request.requester_email).in_(emails),
                   Request.type != RequestType.DISCLOSURE.value)
            .order_by(Request.received_at, Request.id)).scalars())
        found: list[Finding] = []
        for request in requests:
            found += self._request(request)
        found += self._changes(requests)
        found += self._mails(emails)
        found += self._sign_ins(emails)
        return found

    def _request(self, request: Request) -> list[Finding]:
        """The request itself, what the subject wrote with it, and each step it took."""
        ref = RecordRef(self.name, "request", request.reference)
        context = {"reference": request.reference, "received": when(request.received_at),
                   "due": when(request.due_at), "state": readable(request.state)}
        for key, moment in (("confirmed", request.verified_at),
                            ("extended", request.extended_at),
                            ("answered", request.released_at)):
            if moment is not None:
                context[key] = when(moment)
        if request.decision_reason:
            context["reason for the decision"] = request.decision_reason
        if request.extension_reason:
            context["reason for the extension"] = request.extension_reason
        label = f"{request.type.capitalize()} request"
        found = [Finding(Category.RECORD, label, request.reference, self.name, ref, context)]
        if request.message:
            found.append(Finding(Category.MESSAGE, "What you wrote with your request",
                                 request.message, self.name, ref,
                                 {"request": request.reference,
                                  "written": when(request.received_at)}))
        return found + self._steps(request)

    def _steps(self, request: Request) -> list[Finding]:
        labels = {t["trigger"]: t["label"]
                  for t in engine.workflow_for(request.type)["transitions"]}
        events = db.session.execute(
            select(AuditEvent)
            .where(AuditEvent.request_id == request.id,
                   AuditEvent.action == "request.transition")
            .order_by(AuditEvent.seq)).scalars()
        return [
            Finding(Category.RECORD, "Step in your request",
                    labels.get(event.details.get("trigger", ""), "Step"), self.name,
                    RecordRef(self.name, "step", str(event.seq)),
                    {"request": request.reference, "date": when(event.occurred_at),
                     "from": readable(event.details.get("from_state", "")),
                     "to": readable(event.details.get("to_state", ""))})
            for event in events
        ]

    def _changes(self, requests: Iterable[Request]) -> list[Finding]:
        """The corrections the subject proposed, and what was decided on each."""
        references = {r.id: r.reference for r in requests}
        changes = db.session.execute(
            select(ProposedChange).where(ProposedChange.request_id.in_(references))
            .order_by(ProposedChange.id)).scalars()
        found = []
        for change in changes:
            context = {"request": references[change.request_id],
                       "information": Category(change.category).label,
                       "value you said was held": change.current_value,
                       "value you proposed": change.proposed_value,
                       "why": change.why, "decision": readable(change.state),
                       "decided": when(change.decided_at),
                       "reason for the decision": change.decision_reason or "",
                       "made": when(change.applied_at),
                       "your statement": change.statement or "",
                       "statement added": when(change.statement_at)}
            found.append(Finding(
                Category.RECORD, "Correction you proposed",
                f"{Category(change.category).label}: {change.proposed_value}", self.name,
                RecordRef(self.name, "change", str(change.id)),
                {key: value for key, value in context.items() if value}))
        return found

    def _mails(self, emails: list[str]) -> list[Finding]:
        """The e-mails dsr wrote to the subject's addresses (none about a disclosure)."""
        disclosure = select(Request.id).where(Request.type == RequestType.DISCLOSURE.value)
        rows = db.session.execute(
            select(OutboxMessage, Request.reference)
            .outerjoin(Request, Request.id == OutboxMessage.request_id)
            .where(func.lower(OutboxMessage.to_address).in_(emails),
                   OutboxMessage.request_id.is_(None)
                   | OutboxMessage.request_id.not_in(disclosure))
            .order_by(OutboxMessage.id)).all()
        found = []
        for message, reference in rows:
            context = {"subject": self._without_tokens(message.subject),
                       "to": message.to_address, "written": when(message.created_at),
                       "sent": when(message.sent_at,
                                    "never" if message.state in ("failed", "bounced")
                                    else "not yet")}
            if reference:
                context["request"] = reference
            found.append(Finding(Category.MESSAGE, "E-mail this service sent you",
                                 self._without_tokens(message.body).strip(), self.name,
                                 RecordRef(self.name, "e-mail", str(message.id)), context))
        return found

    def _sign_ins(self, emails: list[str]) -> list[Finding]:
        """The sign-in links the subject asked for, and when each was used."""
        links = db.session.execute(
            select(SubjectSignIn).where(func.lower(SubjectSignIn.email).in_(emails))
            .order_by(SubjectSignIn.id)).scalars()
        return [
            Finding(Category.SIGN_IN, "Sign-in link", f"Sent {when(link.created_at)}", self.name,
                    RecordRef(self.name, "sign-in", str(link.id)),
                    {"to": link.email, "sent": when(link.created_at),
                     "used": when(link.used_at, "never")})
            for link in links
        ]

    def _without_tokens(self, text: str) -> str:
        """`text` with every link replaced by "[link]" but those to a page of dsr that no
        token opens (a link that signs in or confirms works for whoever reads the answer)."""
        return LINK.sub(lambda link: link[0] if self._plain_page(link[0]) else HIDDEN_LINK,
                        text)

    def _plain_page(self, url: str) -> bool:
        assert self._app is not None
        public = str(self._app.config["PUBLIC_URL"]).rstrip("/")
        if not url.startswith(public + "/") and url != public:
            return False
        try:
            _, values = self._app.url_map.bind("dsr.invalid").match(
                url.removeprefix(public).split("?")[0] or "/")
        except HTTPException:
            return False
        return "token" not in values and "?" not in url
