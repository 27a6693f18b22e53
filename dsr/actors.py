"""Who does something: a signed-in account, the subject of a request, or dsr itself."""

from dataclasses import dataclass

from dsr.models import User

SUBJECT_ROLE = "subject"
SYSTEM_ROLE = "system"


@dataclass(frozen=True)
class Actor:
    """The doer of a transition or an audited action, as the audit trail names it."""

    ref: str
    roles: frozenset[str]

    @classmethod
    def for_user(cls, user: User) -> "Actor":
        """Name a staff account by its id, never by its e-mail address."""
        return cls(f"user:{user.id}", user.role_names)

    @classmethod
    def of(cls, ref: str) -> "Actor":
        """The actor the audit trail names `ref`, as a job knows it (a job records what was
        started by whom; what it fires itself, dsr fires)."""
        return cls(ref, frozenset())

    @property
    def user_id(self) -> int | None:
        """The account's id, for an actor that is a signed-in account."""
        prefix, _, number = self.ref.partition(":")
        return int(number) if prefix == "user" and number.isdigit() else None


SUBJECT = Actor("subject", frozenset({SUBJECT_ROLE}))
SYSTEM = Actor("system", frozenset({SYSTEM_ROLE}))
# Commands run by an operator on the server; they may fire what dsr itself may fire.
CLI = Actor("cli", frozenset({SYSTEM_ROLE}))
