"""What correction requests tell people, all through the outbox: the subject the decisions and
the outcome, the old address of an e-mail change that it is coming, and every recipient of a
corrected source the rectification (GDPR Art. 19), recorded per recipient."""

from dsr import audit, notify
from dsr.actors import SYSTEM
from dsr.adapters.registry import configured
from dsr.categories import Category, mask
from dsr.corrections import changes_of
from dsr.extensions import db
from dsr.models import ChangeTarget, RecipientNotice, Request
from dsr.models.corrections import ELSEWHERE
from dsr.subjects.links import STOP_CHANGE
from dsr.subjects.sign_in import send_sign_in_link


def tell_decisions(request: Request) -> None:
    """Mail the subject a sign-in link to the decisions; the mail names each change and says
    why one was refused, and the rights that follow (Art. 12(4), Art. 16)."""
    changes = changes_of(request)
    send_sign_in_link(
        request.requester_email, kind="decisions", template="decisions",
        request_id=request.id, name=request.requester_name, reference=request.reference,
        changes=[(Category(c.category).label, c.state, c.decision_reason) for c in changes],
        any_rejected=any(c.state == "rejected" for c in changes),
        sign_in=notify.public_url("subject.sign_in"))
    for change in changes:
        if not (change.stop_nonce and change.apply_after):
            continue
        token = STOP_CHANGE.issue(c=change.id, n=change.stop_nonce)
        # Every address being replaced is told, not only the one that asked.
        old = {request.requester_email} | {t.previous_value.lower() for t in change.targets
                                           if "@" in t.previous_value}
        for address in sorted(old):
            notify.enqueue(
                "email-change", address, "email_change", request_id=request.id,
                name=request.requester_name, reference=request.reference,
                new_address=mask(change.proposed_value),
                when=change.apply_after.strftime("%d %B %Y, %H:%M UTC"),
                link=notify.public_url("portal.stop_change", token=token))


def tell_recipients(request: Request) -> None:
    """Tell each recipient of every corrected source what was corrected (Art. 19), and keep
    one notice per recipient, or why they could not be told."""
    sources = configured()
    corrected: dict[str, list[ChangeTarget]] = {}
    for change in changes_of(request):
        for target in change.targets:
            if change.state == "applied" and target.source != ELSEWHERE:
                corrected.setdefault(target.source, []).append(target)
    for name, targets in sorted(corrected.items()):
        source = sources.get(name)
        for recipient in source.register.recipients if source else []:
            notice = RecipientNotice(request_id=request.id, source=name,
                                     recipient=recipient.name, state="no_address")
            if recipient.email:
                notice.state = "queued"
                message = notify.enqueue(
                    "rectification", recipient.email, "rectification", request_id=request.id,
                    recipient=recipient.name, source=name, reference=request.reference,
                    lines=[(t.record_kind, t.record_key, t.label, _told(t)) for t in targets])
                db.session.flush()
                notice.message_id = message.id
            db.session.add(notice)
            audit.record("recipient.notice", actor=SYSTEM, request_id=request.id, source=name,
                         outcome=notice.state)


def _told(target: ChangeTarget) -> str:
    """The corrected value as a recipient's notice gives it: ID and bank details masked (the
    recipient asks for them through its usual secure channel), the rest in full."""
    value = target.change.proposed_value
    return mask(value) if Category(target.change.category).masked else value


def tell_applied(request: Request) -> None:
    """Mail the subject a sign-in link to the outcome: what is corrected and who was told."""
    send_sign_in_link(
        request.requester_email, kind="applied", template="applied", request_id=request.id,
        name=request.requester_name, reference=request.reference,
        sign_in=notify.public_url("subject.sign_in"))
