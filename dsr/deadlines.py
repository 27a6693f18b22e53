"""The legal clock: due dates by the EDPB's month rule, on working days of a holiday calendar."""

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from dateutil.relativedelta import relativedelta
from flask import current_app


@lru_cache(maxsize=8)
def _calendar(country: str, subdivision: str | None) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdivision)


def is_working_day(day: date, country: str, subdivision: str | None = None) -> bool:
    """Tell whether `day` is neither a weekend nor a public holiday of the country."""
    return day.weekday() < 5 and day not in _calendar(country, subdivision)


def due_date(
    received: date, country: str, subdivision: str | None = None, months: int = 1
) -> date:
    """Return the deadline `months` after `received` (EDPB Guidelines 01/2022, para 160).

    The same day of the month, or the month's last day where that day does not exist; moved to
    the next working day where it falls on a weekend or public holiday.
    """
    due = received + relativedelta(months=months)
    while not is_working_day(due, country, subdivision):
        due += timedelta(days=1)
    return due


def due_at(received_at: datetime, months: int = 1) -> datetime:
    """Return the last moment of the deadline's day, in the company's time zone.

    The law counts the company's local days (TIMEZONE), not UTC ones.
    """
    config = current_app.config
    zone = ZoneInfo(config["TIMEZONE"])
    received = received_at.astimezone(zone).date()
    due = due_date(received, config["HOLIDAY_COUNTRY"], config["HOLIDAY_SUBDIVISION"], months)
    return datetime.combine(due, time(23, 59, 59), tzinfo=zone)
