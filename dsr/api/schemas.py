"""The JSON API's bodies, validated with pydantic; their JSON Schemas feed the OpenAPI
document, so that what is documented is what is checked."""

import re
from typing import Literal, Self

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from dsr.categories import Category
from dsr.corrections import Proposal
from dsr.corrections.values import InvalidValue, normalise
from dsr.text import MESSAGE, has_control_characters

# What free text may hold, declared in the document as the validators check it: no control
# characters but tab and line breaks (dsr.text).
PRINTABLE: JsonDict = {"pattern": "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$"}

_MAILBOX = re.compile(r".+@[^@\s]+")

Correctable = Literal["name", "address", "email", "phone", "company", "id_details",
                      "bank_details"]


def _printable(value: str | None) -> str | None:
    if value is not None and has_control_characters(value):
        raise PydanticCustomError("printable", MESSAGE)
    return value


class ChangeIn(BaseModel):
    """One proposed change: the kind of information, what it should be, and why."""

    model_config = ConfigDict(extra="forbid")

    category: Correctable
    proposed: str = Field(min_length=1, max_length=200)
    current: str = Field(default="", max_length=200, json_schema_extra=PRINTABLE)
    why: str = Field(default="", max_length=2000, json_schema_extra=PRINTABLE)
    note: str = Field(default="", max_length=2000, json_schema_extra=PRINTABLE)

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

    # Declared as checked: a correction names at least one change, an access request none.
    model_config = ConfigDict(extra="forbid", json_schema_extra={"allOf": [{
        "if": {"properties": {"type": {"const": "correction"}}},
        "then": {"required": ["changes"], "properties": {"changes": {"minItems": 1}}},
        "else": {"properties": {"changes": {"maxItems": 0}}},
    }]})

    type: Literal["access", "correction"]
    email: str = Field(max_length=254, json_schema_extra={"format": "email"})
    name: str = Field(min_length=1, max_length=200, json_schema_extra=PRINTABLE)
    message: str | None = Field(default=None, max_length=4000, json_schema_extra=PRINTABLE)
    changes: list[ChangeIn] = Field(default=[], max_length=50)

    _text = field_validator("name", "message")(_printable)

    @field_validator("email")
    @classmethod
    def _address(cls, value: str) -> str:
        """Something@somewhere (else 400, malformed), that is an address mail can reach (else
        422: a quoted local part, a special-use domain such as .test); normalised."""
        if not _MAILBOX.fullmatch(value):
            raise PydanticCustomError("email_syntax", "value is not a valid email address: "
                                      "write it as name@example.com")
        try:
            return validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError as error:
            raise ValueError(f"value is not a valid email address: {error}") from None

    @model_validator(mode="after")
    def _changes_fit_the_type(self) -> Self:
        # What the document declares is refused as malformed (400); what it cannot say (an
        # e-mail change to the same address, a value that is not one) as unprocessable (422).
        if self.type == "correction" and not self.changes:
            raise PydanticCustomError("shape", "a correction request names at least one change")
        if len(self.changes) > current_app.config["MAX_CHANGES"]:
            raise PydanticCustomError(
                "shape", f"send at most {current_app.config['MAX_CHANGES']} changes in one "
                "request")
        if self.type == "access" and self.changes:
            raise PydanticCustomError("shape", "an access request takes no changes")
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
