"""Firing a transition that a person or a program sent over HTTP: the version they read the
request at, read the same way for every client, and the fire-and-commit every blueprint does."""

from collections.abc import Mapping

from dsr import engine
from dsr.actors import Actor
from dsr.extensions import db
from dsr.models import Request
from dsr.text import small_int

STALE = -1
"""A version no request has: the engine refuses it as read at another version (409)."""


def read_version(sent: int | str | None) -> int | None:
    """The version a client read the request at, for the engine to compare: None when it sent
    none (the API may leave it out), an integer as sent, text as the number its ASCII digits
    spell; text that spells none is stale, so that a decision on unknown facts is refused."""
    if sent is None or isinstance(sent, int):
        return sent
    version = small_int(sent)
    return STALE if version is None else version


def fire(case: Request, trigger: str, *, actor: Actor, version: int | str | None,
         given: Mapping[str, str] | None = None) -> None:
    """Fire `trigger` with what of `given` it takes (a reason, say), for a client that read
    the request at `version`, and commit; on a refusal roll back and raise its
    engine.TransitionError."""
    fields = engine.fields_for(case.type, trigger)
    data = {name: value for name, value in (given or {}).items() if name in fields}
    try:
        engine.fire(case, trigger, actor=actor, version=read_version(version), **data)
        db.session.commit()
    except engine.TransitionError:
        db.session.rollback()
        raise
