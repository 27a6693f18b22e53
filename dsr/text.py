"""Free text from people: what it may contain. A NUL or other control character is refused
with a message (PostgreSQL cannot store NUL, and nobody types one on purpose)."""

import re
from typing import Any

from wtforms import Field, Form
from wtforms.validators import ValidationError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MESSAGE = "Remove the invisible control characters from this text."


def has_control_characters(value: str) -> bool:
    """Tell whether `value` holds a control character other than tab and line breaks."""
    return bool(_CONTROL.search(value))


def printable(form: Form, field: Field) -> None:
    """WTForms validator: no control characters."""
    if isinstance(field.data, str) and has_control_characters(field.data):
        raise ValidationError(MESSAGE)


def small_int(text: str | None) -> int | None:
    """A non-negative number typed in ASCII digits that fits a database integer, else None
    (form fields and query arguments people can tamper with)."""
    text = text or ""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


_NUMBER = re.compile(r"[+-]?[\d .()/-]+")


def csv_cell(value: Any) -> str:
    """A value a spreadsheet shows as text, never runs as a formula (CSV injection): a cell
    that begins with =, +, -, @, a tab or a return gets a quote, unless it is a number as a
    person writes one (a telephone number, say)."""
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.fullmatch(text):
        return "'" + text
    return text
