"""The legal clock, on the EDPB's worked examples (Guidelines 01/2022, paras 159-162)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from dsr import deadlines


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (date(2025, 3, 5), date(2025, 4, 7)),  # 5 April 2025 is a Saturday -> Monday
        (date(2026, 3, 5), date(2026, 4, 7)),  # 5 April Easter Sunday, 6 Easter Monday
        (date(2026, 8, 31), date(2026, 9, 30)),  # no 31 September: last day of the month
        (date(2027, 1, 31), date(2027, 3, 1)),  # 28 Feb 2027 is a Sunday -> Monday 1 March
        (date(2028, 1, 31), date(2028, 2, 29)),  # leap year
        (date(2026, 11, 3), date(2026, 12, 3)),  # an ordinary Thursday
        (date(2026, 11, 25), date(2026, 12, 28)),  # 25, 26 Dec holidays, 27 Sunday
    ],
)
def test_due_date_same_day_next_month_on_a_working_day(received: date, due: date) -> None:
    assert deadlines.due_date(received, "DE") == due


def test_holidays_follow_the_configured_country() -> None:
    # 1 November (All Saints) is a holiday in France, not in Germany as a whole.
    assert deadlines.due_date(date(2027, 10, 1), "FR") == date(2027, 11, 2)
    assert deadlines.due_date(date(2027, 10, 1), "DE") == date(2027, 11, 1)


def test_extension_is_three_months_after_receipt() -> None:
    assert deadlines.due_date(date(2026, 3, 5), "DE", months=3) == date(2026, 6, 5)


def test_due_at_counts_local_days_and_ends_at_the_end_of_the_day(sqlite_app: Flask) -> None:
    # 23:30 UTC on 4 March is already 5 March in Berlin.
    received = datetime(2026, 3, 4, 23, 30, tzinfo=ZoneInfo("UTC"))
    due = deadlines.due_at(received)
    berlin = due.astimezone(ZoneInfo("Europe/Berlin"))
    assert berlin.date() == date(2026, 4, 7)
    assert (berlin.hour, berlin.minute) == (23, 59)
    assert due - received > timedelta(days=33)
