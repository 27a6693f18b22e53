"""Telling a person why a form they sent was not taken."""

from flask import flash
from flask_wtf import FlaskForm


def flash_form_errors(not_done: str, form: FlaskForm) -> None:
    """Flash `not_done` ("The note was not saved") with every error of `form`, as one message."""
    flash(f"{not_done}: " + "; ".join(e for errors in form.errors.values() for e in errors),
          "error")
