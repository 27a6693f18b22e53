"""The demo company at test size, and the adapter cases the conformance suite runs."""

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from dsr.adapters import SourceAdapter, SubjectIdentity
from dsr.categories import Category
from dsr.demo import company

MAPPINGS = Path(company.__file__).parent / "mappings"


@dataclass
class AdapterCase:
    """One adapter under the conformance suite, with what it must and must not find."""

    adapter: SourceAdapter
    subject: SubjectIdentity
    expected: set[tuple[Category, str]]
    foreign: set[str]
    broken: Callable[[], SourceAdapter]
    correction: tuple[Category, str, str] | None = None  # category, old value, new value
    extra: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="session")
def demo_company(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[company.Customer]]:
    """The demo company's three databases, small: 40 customers and 600 visits."""
    folder = tmp_path_factory.mktemp("company")
    people = company.build(folder, customers_count=40, visits=600)
    return folder, people


@pytest.fixture
def company_copy(demo_company, tmp_path: Path) -> tuple[Path, list[company.Customer]]:
    """A copy of the demo company a test may change."""
    folder, people = demo_company
    copy = tmp_path / "company"
    shutil.copytree(folder, copy)
    return copy, people


def identity(customer: company.Customer, **keys: Any) -> SubjectIdentity:
    """The verified identity of a demo customer."""
    return SubjectIdentity.of(customer.email, **keys)


def other_customers_values(people: list[company.Customer], *skip: int) -> set[str]:
    """E-mail addresses and phone numbers of every customer but `skip`."""
    return {value for c in people if c.id not in skip for value in (c.email, c.phone)}


@pytest.fixture
def sql_billing_case(company_copy) -> Iterator[AdapterCase]:
    """The sql adapter on the demo billing database (SQLite)."""
    from dsr.adapters.sql import SqlAdapter

    folder, people = company_copy
    me = people[company.SEVERAL_EMAILS - 1]
    settings = {"url": f"sqlite:///{folder / 'billing.sqlite'}",
                "mapping_file": str(MAPPINGS / "billing.yaml")}
    yield AdapterCase(
        adapter=SqlAdapter("billing", settings),
        subject=identity(me),
        expected={(Category.EMAIL, me.email), (Category.NAME, me.first),
                  (Category.PHONE, me.phone), (Category.IP, me.ip)},
        foreign=other_customers_values(people, me.id),
        broken=lambda: SqlAdapter("billing", settings | {
            "url": f"sqlite:///{folder / 'missing' / 'billing.sqlite'}"}),
        correction=(Category.NAME, me.last, "Lima-Santos"),
    )


def export_csv(database: Path, folder: Path) -> None:
    """Write every table of an SQLite database as `<table>.csv` in `folder`."""
    import csv
    import sqlite3

    folder.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(database)
    tables = [name for (name,) in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        cursor = connection.execute(f"SELECT * FROM {table}")
        with (folder / f"{table}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow([column[0] for column in cursor.description])
            writer.writerows(cursor)
    connection.close()


@pytest.fixture
def csv_billing_case(company_copy, tmp_path: Path) -> AdapterCase:
    """The csv adapter on CSV exports of the demo billing database."""
    from dsr.adapters.csvfiles import CsvAdapter

    folder, people = company_copy
    export_csv(folder / "billing.sqlite", tmp_path / "exports")
    me = people[company.SHARED_IP_A - 1]
    settings = {"folder": str(tmp_path / "exports"),
                "mapping_file": str(MAPPINGS / "billing.yaml")}
    return AdapterCase(
        adapter=CsvAdapter("billing-export", settings),
        subject=identity(me),
        expected={(Category.EMAIL, me.email), (Category.NAME, me.last),
                  (Category.IP, company.OFFICE_IP)},
        foreign=other_customers_values(people, me.id),
        broken=lambda: CsvAdapter("billing-export", settings | {"folder": str(tmp_path / "gone")}),
    )


@pytest.fixture
def sql_chats_case(company_copy) -> AdapterCase:
    """The sql adapter on the demo helpdesk's live-chat tables."""
    import sqlite3

    from dsr.adapters.sql import SqlAdapter

    folder, people = company_copy
    chatting = {row[0] for row in sqlite3.connect(folder / "helpdesk.sqlite").execute(
        "SELECT userid FROM swchatobjects")}
    me = next(c for c in people if c.id in chatting)
    settings = {"url": f"sqlite:///{folder / 'helpdesk.sqlite'}",
                "mapping_file": str(MAPPINGS / "helpdesk_chats.yaml")}
    return AdapterCase(
        adapter=SqlAdapter("chats", settings),
        subject=identity(me),
        expected={(Category.CHAT, "Pre-sales question"), (Category.NAME, f"{me.first} {me.last}"),
                  (Category.EMAIL, me.email)},
        foreign=other_customers_values(people, me.id),
        broken=lambda: SqlAdapter("chats", settings | {"url": "sqlite:////nonexistent/x.db"}),
    )


WHMCS_ID, WHMCS_SECRET = "dsr-test", "whmcs-test-secret"


@pytest.fixture
def whmcs_server(company_copy) -> Iterator[Any]:
    """The WHMCS stand-in over a copy of the demo billing database, on 127.0.0.1."""
    from dsr.demo.standins import serve
    from dsr.demo.standins.whmcs import create_whmcs

    folder, _ = company_copy
    running = serve(create_whmcs(folder / "billing.sqlite", WHMCS_ID, WHMCS_SECRET))
    yield running
    running.stop()


def whmcs_settings(url: str, **overrides: Any) -> dict[str, Any]:
    return {"url": url, "identifier": WHMCS_ID, "secret": WHMCS_SECRET, "timeout": 2,
            "retries": 1, "backoff": 0} | overrides


@pytest.fixture
def whmcs_case(whmcs_server, company_copy) -> AdapterCase:
    """The whmcs adapter against the WHMCS stand-in."""
    from dsr.adapters.whmcs import WhmcsAdapter

    _, people = company_copy
    me = people[company.SEVERAL_EMAILS - 1]
    return AdapterCase(
        adapter=WhmcsAdapter("billing-api", whmcs_settings(whmcs_server.url)),
        subject=identity(me),
        expected={(Category.EMAIL, me.email), (Category.NAME, me.first),
                  (Category.PHONE, me.phone), (Category.IP, me.ip),
                  (Category.EMAIL, f"billing@{company._slug(me.last)}.example")},
        foreign=other_customers_values(people, me.id),
        broken=lambda: WhmcsAdapter("billing-api", whmcs_settings("http://127.0.0.1:9")),
        correction=(Category.NAME, me.last, "Lima-Santos"),
    )


MATOMO_TOKEN = "matomo-test-token"


@pytest.fixture
def matomo_server(company_copy) -> Iterator[Any]:
    """The Matomo stand-in over a copy of the demo analytics database, on 127.0.0.1."""
    from dsr.demo.standins import serve
    from dsr.demo.standins.matomo import create_matomo

    folder, _ = company_copy
    running = serve(create_matomo(folder / "analytics.sqlite", MATOMO_TOKEN))
    yield running
    running.stop()


def matomo_settings(url: str, **overrides: Any) -> dict[str, Any]:
    return {"url": url, "token": MATOMO_TOKEN, "timeout": 2, "retries": 1,
            "backoff": 0} | overrides


def visits_of(folder: Path, customer: company.Customer) -> list[tuple[int, str]]:
    """The demo visits a customer made signed in: (idvisit, first action time)."""
    import sqlite3

    connection = sqlite3.connect(folder / "analytics.sqlite")
    try:
        return list(connection.execute(
            "SELECT idvisit, visit_first_action_time FROM log_visit WHERE user_id = ?",
            (str(customer.id),)))
    finally:
        connection.close()


@pytest.fixture
def matomo_case(matomo_server, company_copy) -> AdapterCase:
    """The matomo adapter against the Matomo stand-in."""
    from dsr.adapters.matomo import MatomoAdapter

    folder, people = company_copy
    me = people[company.SEVERAL_EMAILS - 1]
    first_visit = min(visits_of(folder, me), key=lambda v: v[0])
    date, _, time = first_visit[1].partition(" ")
    return AdapterCase(
        adapter=MatomoAdapter("analytics", matomo_settings(matomo_server.url)),
        subject=identity(me, customer_ids=[str(me.id)], ips=[me.ip]),
        expected={(Category.VISIT, f"Visit on {date} at {time[:5]} UTC"), (Category.IP, me.ip)},
        foreign=other_customers_values(people, me.id) | {c.ip for c in people if c.id != me.id},
        broken=lambda: MatomoAdapter("analytics", matomo_settings("http://127.0.0.1:9")),
    )


KAYAKO_KEY, KAYAKO_SECRET = "kayako-test-key", "kayako-test-secret"


@pytest.fixture
def kayako_server(company_copy) -> Iterator[Any]:
    """The Kayako Classic stand-in over a copy of the demo helpdesk database, on 127.0.0.1."""
    from dsr.demo.standins import serve
    from dsr.demo.standins.kayako import create_kayako

    folder, _ = company_copy
    running = serve(create_kayako(folder / "helpdesk.sqlite", KAYAKO_KEY, KAYAKO_SECRET))
    yield running
    running.stop()


def kayako_settings(url: str, **overrides: Any) -> dict[str, Any]:
    return {"url": f"{url}/api/index.php", "api_key": KAYAKO_KEY, "secret_key": KAYAKO_SECRET,
            "timeout": 2, "retries": 1, "backoff": 0} | overrides


@pytest.fixture
def kayako_case(kayako_server, company_copy) -> AdapterCase:
    """The kayako adapter against the Kayako stand-in, for the customer whose ticket names
    another customer."""
    from dsr.adapters.kayako import KayakoAdapter

    _, people = company_copy
    me = people[company.MENTIONING - 1]
    return AdapterCase(
        adapter=KayakoAdapter("helpdesk", kayako_settings(kayako_server.url)),
        subject=identity(me),
        expected={(Category.EMAIL, me.email), (Category.NAME, f"{me.first} {me.last}"),
                  (Category.TICKET, "Transfer domain to a colleague"), (Category.IP, me.ip)},
        foreign=other_customers_values(people, me.id),
        broken=lambda: KayakoAdapter("helpdesk", kayako_settings("http://127.0.0.1:9")),
    )
