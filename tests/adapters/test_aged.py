"""The retention report's questions to the sources: how many records each dates before a day.
Counted against the stand-ins' databases directly, on the documented APIs (Matomo's Live
API over a date range, WHMCS's GetClients by status), on SQLite, CSV and PostgreSQL."""

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from dsr.adapters import AgedRecords, SourceUnavailable
from dsr.adapters.kayako import KayakoAdapter
from dsr.adapters.matomo import MatomoAdapter
from dsr.adapters.sql import SqlAdapter
from dsr.adapters.whmcs import CLOSED_CLIENTS, WhmcsAdapter
from dsr.demo.sources import MAPPINGS
from tests.fixtures.company import kayako_settings, matomo_settings, whmcs_settings

SIGN_INS = "Client area sign-in"


def counted(database: Path, sql: str, *params: object) -> int:
    with sqlite3.connect(database) as connection:
        return int(connection.execute(sql, params).fetchone()[0])


def middle_day(database: Path) -> date:
    """A day with sign-ins on both sides of it."""
    days = [row[0] for row in sqlite3.connect(database).execute(
        "SELECT substr(date, 1, 10) FROM tblactivitylog ORDER BY date")]
    return date.fromisoformat(days[len(days) // 2])


def test_the_sql_and_csv_adapters_count_the_rows_dated_before_a_day(
        sql_billing_case, csv_billing_case, company_copy) -> None:
    folder, _ = company_copy
    billing = folder / "billing.sqlite"
    day = middle_day(billing)
    older = counted(billing, "SELECT count(*) FROM tblactivitylog WHERE date < ?",
                    day.isoformat())
    assert 0 < older < counted(billing, "SELECT count(*) FROM tblactivitylog")
    for case in (sql_billing_case, csv_billing_case):
        assert isinstance(case.adapter, AgedRecords)
        assert case.adapter.aged(day) == {SIGN_INS: older}, type(case.adapter).__name__


def test_postgresql_dates_are_counted_the_same(sql_billing_postgres_case, company_copy) -> None:
    folder, _ = company_copy
    day = middle_day(folder / "billing.sqlite")
    older = counted(folder / "billing.sqlite",
                    "SELECT count(*) FROM tblactivitylog WHERE date < ?", day.isoformat())
    assert sql_billing_postgres_case.adapter.aged(day) == {SIGN_INS: older}


def test_unix_timestamps_are_read_as_days_and_unreachable_databases_say_so(
        company_copy) -> None:
    folder, _ = company_copy
    helpdesk = folder / "helpdesk.sqlite"
    three_years_ago = int((datetime.now(UTC) - timedelta(days=3 * 365)).timestamp())
    with sqlite3.connect(helpdesk) as connection:
        connection.execute("INSERT INTO swchatobjects (userid, useremail, subject, transcript, "
                           "dateline) VALUES (1, 'old@example.com', 'Old', '...', ?)",
                           (three_years_ago,))
    before = date.today() - timedelta(days=730)
    expected = counted(helpdesk, "SELECT count(*) FROM swchatobjects WHERE dateline < ?",
                       int(datetime(before.year, before.month, before.day,
                                    tzinfo=UTC).timestamp()))
    settings = {"url": f"sqlite:///{helpdesk}",
                "mapping_file": str(MAPPINGS / "helpdesk_chats.yaml")}
    assert SqlAdapter("chats", settings).aged(before) == {"Live chat": expected}
    assert expected >= 1
    gone = SqlAdapter("chats", settings | {"url": f"sqlite:///{folder}/gone/helpdesk.sqlite"})
    try:
        gone.aged(before)
    except SourceUnavailable as error:
        assert "did not answer" in str(error)
    else:
        raise AssertionError("an unreachable database must be reported")


def test_matomo_counts_its_raw_visits_before_a_day_page_by_page(
        matomo_server, company_copy) -> None:
    folder, _ = company_copy
    analytics = folder / "analytics.sqlite"
    old = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    with sqlite3.connect(analytics) as connection:
        connection.executemany(
            "INSERT INTO log_visit (idsite, idvisitor, location_ip, visit_first_action_time, "
            "visit_last_action_time) VALUES (1, 'abcdef0123456789', '203.0.113.9', ?, ?)",
            [((old + timedelta(minutes=n)).strftime("%Y-%m-%d %H:%M:%S"),) * 2
             for n in range(1500)])
    adapter = MatomoAdapter("analytics", matomo_settings(matomo_server.url))
    before = date(2025, 1, 1)
    expected = counted(analytics, "SELECT count(*) FROM log_visit "
                       "WHERE visit_last_action_time < ?", before.isoformat())
    assert expected >= 1500
    assert adapter.aged(before) == {"Visits (raw log)": expected}
    assert adapter.aged(date(2024, 3, 1)) == {"Visits (raw log)": counted(
        analytics, "SELECT count(*) FROM log_visit WHERE visit_last_action_time < ?",
        "2024-03-01")}


def test_whmcs_counts_its_closed_accounts(whmcs_server, company_copy) -> None:
    folder, _ = company_copy
    with sqlite3.connect(folder / "billing.sqlite") as connection:
        connection.execute("UPDATE tblclients SET status = 'Closed' WHERE id IN (2, 5, 9)")
    closed = counted(folder / "billing.sqlite",
                     "SELECT count(*) FROM tblclients WHERE status = 'Closed'")
    adapter = WhmcsAdapter("billing", whmcs_settings(whmcs_server.url))
    assert adapter.aged(date.today()) == {CLOSED_CLIENTS: closed}
    assert closed >= 3


def test_an_adapter_that_cannot_tell_age_does_not_pretend(kayako_server) -> None:
    assert not isinstance(KayakoAdapter("helpdesk", kayako_settings(kayako_server.url)),
                          AgedRecords)
