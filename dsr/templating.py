"""Jinja filters that every page's templates share, and pages sent as they are rendered."""

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, Response, current_app, get_flashed_messages, stream_template
from flask_wtf.csrf import generate_csrf
from sqlalchemy import inspect

from dsr.extensions import db

DATE_TIME = "%d %b %Y %H:%M %Z"


def localtime(moment: date, pattern: str = DATE_TIME) -> str:
    """Format a UTC moment in the configured TIMEZONE (%Z names the zone); a date as it is."""
    if not isinstance(moment, datetime):
        return moment.strftime(pattern)
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime(pattern)


PART = 64 * 1024


def in_parts(pieces: Iterable[str], size: int = PART) -> Iterator[str]:
    """Pieces of text joined into parts of about `size` characters, for the network."""
    part: list[str] = []
    length = 0
    for piece in pieces:
        part.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(part)
            part, length = [], 0
    yield "".join(part)


def streamed(template: str, **context: Any) -> Response:
    """A page sent as it is rendered, in parts: a page of any length costs the same memory.
    What the page takes from the session (its flashed messages, its forms' token) is taken
    before the first part goes, while the session can still be saved. The view's database
    session ends when the view returns, so what a commit expired of the objects it loaded
    (the request, the signed-in account) is read again now; a query the page itself makes
    runs in a session of its own."""
    get_flashed_messages(with_categories=True)
    generate_csrf()
    for instance in list(db.session.identity_map.values()):
        if inspect(instance, raiseerr=True).expired_attributes:
            db.session.refresh(instance)
    return current_app.response_class(in_parts(stream_template(template, **context)),
                                      mimetype="text/html")


def init_app(app: Flask) -> None:
    """Register the shared filters on the app's Jinja environment."""
    app.add_template_filter(localtime)
