"""Jinja filters that every page's templates share."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app

DATE_TIME = "%d %b %Y %H:%M %Z"


def localtime(moment: date, pattern: str = DATE_TIME) -> str:
    """Format a UTC moment in the configured TIMEZONE (%Z names the zone); a date as it is."""
    if not isinstance(moment, datetime):
        return moment.strftime(pattern)
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime(pattern)


def init_app(app: Flask) -> None:
    """Register the shared filters on the app's Jinja environment."""
    app.add_template_filter(localtime)
