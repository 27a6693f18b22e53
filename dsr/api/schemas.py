"""The JSON API's bodies, validated with pydantic; their JSON Schemas feed the OpenAPI
document, so that what is documented is what is checked."""

from typing import Literal, Self

from flask import current_app
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from dsr.categories import Category
from dsr.corrections import Proposal
from dsr.corrections.values import InvalidValue, normalise
from dsr.text import MESSAGE, has_control_characters

Correctable = Literal["name", "address", "email", "phone", "company", "id_details",
                      "bank_details"]


def _printable(value: str | None) -> str | None:
    if value is not None and has_control_characters(value):
        raise ValueError(MESSAGE)
    return value


class ChangeIn(BaseModel):
    """One proposed change: the kind of information, what it should be, and why."""

    model_config = ConfigDict(extra="forbid")

    category: Correctable
    proposed: str = Field(min_length=1, max_length=200)
    current: str = Field(default="", max_length=200)
    why: str = Field(default="", max_length=2000)
    note: str = Field(default="", max_length=2000)

    _text = field_validator("current", "why", "note")(_printable)

    @model_validator(mode="after")
    def _valid_value(self) -> Self:
        """The proposed value, checked and stored as sources keep it."""
        try:
            self.proposed = normalise(Category(self.category), self.proposed,
                                      country=current_app.config["PHONE_REGION"])
        except InvalidValue as error:
            raise ValueError(f"proposed: {error}") from None
        return self

    def proposal(self) -> Proposal:
        """The change as corrections takes it."""
        return Proposal(Category(self.category), self.proposed, current=self.current.strip(),
                        why=self.why.strip(), note=self.note.strip())


class NewRequest(BaseModel):
    """A subject's request, as the public form takes it; a correction names its changes."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["access", "correction"]
    email: EmailStr = Field(max_length=254)
    name: str = Field(min_length=1, max_length=200)
    message: str | None = Field(default=None, max_length=4000)
    changes: list[ChangeIn] = Field(default=[], max_length=50)

    _text = field_validator("name", "message")(_printable)

    @model_validator(mode="after")
    def _changes_fit_the_type(self) -> Self:
        if self.type == "correction" and not self.changes:
            raise ValueError("a correction request names at least one change")
        if len(self.changes) > current_app.config["MAX_CHANGES"]:
            raise ValueError(f"send at most {current_app.config['MAX_CHANGES']} changes in one "
                             "request")
        if self.type == "access" and self.changes:
            raise ValueError("an access request takes no changes")
        if any(c.category == "email" and c.proposed.lower() == str(self.email).lower()
               for c in self.changes):
            raise ValueError("an e-mail change must name a new address")
        return self


class Accepted(BaseModel):
    """The answer to a new request: the same for every address."""

    id: str
    state: str


class TransitionBody(BaseModel):
    """A trigger to fire, with the version the request was read at and any data it takes."""

    model_config = ConfigDict(extra="allow")

    trigger: str
    version: int | None = None
    reason: str | None = None


class SourceStatus(BaseModel):
    """How one source's part of the collection went."""

    name: str
    state: Literal["running", "done", "failed"]
    attempts: int
    error: str | None
    warnings: list[str]
    findings: int


class FindingOut(BaseModel):
    """One finding (ID and bank details masked unless revealed)."""

    category: str
    label: str
    value: str
    source: str
    context: dict[str, str]


class RequestOut(BaseModel):
    """A request as staff see it."""

    id: str
    type: str
    state: str
    received_at: str
    due_at: str
    extended: bool
    version: int
    requester: dict[str, str] | None = None
    allowed_triggers: list[str] | None = None
    sources: list[SourceStatus] | None = None
    findings: list[FindingOut] | None = None


class ErrorOut(BaseModel):
    """An error: its status, a message a person can act on, and for a refused transition the
    triggers that are possible."""

    error: dict[str, object]
