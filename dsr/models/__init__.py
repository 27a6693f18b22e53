"""dsr's models; import them from here."""

from dsr.models.audit import AuditEvent, AuditHead
from dsr.models.collection import FoundItem, SourceRun
from dsr.models.corrections import ChangeTarget, ProposedChange, RecipientNotice
from dsr.models.disclosures import Disclosure, DisclosureDocument
from dsr.models.jobs import Job
from dsr.models.outbox import OUTBOX_STATES, OutboxMessage, SubjectSignIn
from dsr.models.policy import PolicyMailing, PolicyVersion
from dsr.models.requests import (
    STAFF_TYPES,
    Request,
    RequestNote,
    RequestType,
    new_reference,
    normalise_reference,
)
from dsr.models.retention import AgedRecords
from dsr.models.users import ApiToken, RecoveryCode, Role, User, UserRole, hash_token

__all__ = [
    "OUTBOX_STATES",
    "STAFF_TYPES",
    "AgedRecords",
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "ChangeTarget",
    "Disclosure",
    "DisclosureDocument",
    "FoundItem",
    "Job",
    "OutboxMessage",
    "PolicyMailing",
    "PolicyVersion",
    "ProposedChange",
    "RecipientNotice",
    "RecoveryCode",
    "Request",
    "RequestNote",
    "RequestType",
    "Role",
    "SourceRun",
    "SubjectSignIn",
    "User",
    "UserRole",
    "hash_token",
    "new_reference",
    "normalise_reference",
]
