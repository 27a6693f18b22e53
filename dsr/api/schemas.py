"""The JSON API's bodies, validated with pydantic; their JSON Schemas feed the OpenAPI
document, so that what is documented is what is checked."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from dsr.text import MESSAGE, has_control_characters


class NewRequest(BaseModel):
    """A subject's request, as the public form takes it."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["access", "correction"]
    email: EmailStr = Field(max_length=254)
    name: str = Field(min_length=1, max_length=200)
    message: str | None = Field(default=None, max_length=4000)

    @field_validator("name", "message")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        if value is not None and has_control_characters(value):
            raise ValueError(MESSAGE)
        return value


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
