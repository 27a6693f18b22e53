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
from tests.conftest import app_on

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


THIRD_PARTY = Path(__file__).resolve().parent.parent / "thirdparty"


@pytest.fixture(scope="session")
def installed_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example third-party adapter, installed with pip into a folder of its own."""
    import subprocess
    import sys

    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    shutil.copytree(THIRD_PARTY, build / "src")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(target), str(build / "src")],
        check=True, capture_output=True,
    )
    return target


@pytest.fixture
def example_case(installed_example: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                 demo_company) -> AdapterCase:
    """The third-party adapter, found through its entry point as dsr finds installed ones."""
    import json

    from dsr.adapters.registry import load_factory

    monkeypatch.syspath_prepend(str(installed_example))
    _, people = demo_company
    me = people[0]
    path = tmp_path / "subscribers.jsonl"
    path.write_text("".join(
        json.dumps({"email": c.email, "name": f"{c.first} {c.last}",
                    "subscribed_at": "2026-02-01"}) + "\n" for c in people[:10]))
    factory = load_factory("newsletter", include_installed=True)
    return AdapterCase(
        adapter=factory("newsletter", {"path": str(path)}),
        subject=identity(me),
        expected={(Category.EMAIL, me.email), (Category.NAME, f"{me.first} {me.last}")},
        foreign=other_customers_values(people, me.id),
        broken=lambda: factory("newsletter", {"path": str(tmp_path / "gone.jsonl")}),
    )


def copy_to_postgres(database: Path, url: str) -> None:
    """Copy every table of an SQLite database, with its indexes, into a PostgreSQL database."""
    import sqlite3

    import sqlalchemy as sa

    source = sqlite3.connect(database)
    engine = sa.create_engine(url)
    types = {"INTEGER": "BIGINT", "TEXT": "TEXT"}
    with engine.begin() as target:
        for (table,) in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            columns = list(source.execute(f"PRAGMA table_info({table})"))
            target.exec_driver_sql(f"CREATE TABLE {table} (" + ", ".join(
                f'"{c[1]}" {types[c[2]]}{" PRIMARY KEY" if c[5] else ""}' for c in columns) + ")")
            rows = list(source.execute(f"SELECT * FROM {table}"))
            if rows:
                marks = ", ".join(f"%({c[1]})s" for c in columns)
                target.exec_driver_sql(
                    f"INSERT INTO {table} VALUES ({marks})",
                    [dict(zip([c[1] for c in columns], row, strict=True)) for row in rows])
        for (sql,) in source.execute("SELECT sql FROM sqlite_master WHERE type = 'index' "
                                     "AND sql IS NOT NULL"):
            target.exec_driver_sql(sql)
    engine.dispose()
    source.close()


@pytest.fixture
def sql_billing_postgres_case(company_copy, postgres_url: str) -> Iterator[AdapterCase]:
    """The sql adapter on the demo billing data in PostgreSQL."""
    from dsr.adapters.sql import SqlAdapter

    folder, people = company_copy
    copy_to_postgres(folder / "billing.sqlite", postgres_url)
    me = people[company.SHARED_IP_B - 1]
    settings = {"url": postgres_url, "mapping_file": str(MAPPINGS / "billing.yaml")}
    adapter = SqlAdapter("billing", settings)
    yield AdapterCase(
        adapter=adapter,
        subject=identity(me, customer_ids=[str(me.id)]),
        expected={(Category.EMAIL, me.email), (Category.NAME, me.first),
                  (Category.IP, company.OFFICE_IP)},
        foreign=other_customers_values(people, me.id),
        broken=lambda: SqlAdapter("billing", settings | {
            "url": postgres_url.rsplit("/", 1)[0] + "/no_such_database"}),
        correction=(Category.ADDRESS, me.city[0], "Utrecht"),
    )
    adapter._engine.dispose()


DEMO_REGISTER = {"purposes": ["Demo"], "legal_basis": "Contract", "retention": "1 year",
                 "origin": "The subject"}
# Who receives billing data: one recipient with an address for rectification notices, and one
# named only.
BILLING_RECIPIENTS = [{"name": "Demo Bank AG", "email": "privacy@demo-bank.example"},
                      "Archive Partner Ltd"]


def company_sources(folder: Path, whmcs_url: str, matomo_url: str, kayako_url: str
                    ) -> dict[str, Any]:
    """SOURCES for the demo company in `folder`: its stand-ins at these URLs, and its live
    chats by SQL."""
    sources: dict[str, Any] = {
        "billing": {"adapter": "whmcs", "settings": whmcs_settings(whmcs_url),
                    "identifies": "client"},
        "analytics": {"adapter": "matomo", "settings": matomo_settings(matomo_url)},
        "helpdesk": {"adapter": "kayako", "settings": kayako_settings(kayako_url)},
        "chats": {"adapter": "sql", "settings": {
            "url": f"sqlite:///{folder / 'helpdesk.sqlite'}",
            "mapping_file": str(MAPPINGS / "helpdesk_chats.yaml")}},
    }
    for source in sources.values():
        source["register"] = DEMO_REGISTER
    sources["billing"]["register"] = DEMO_REGISTER | {"recipients": BILLING_RECIPIENTS}
    return sources


@pytest.fixture
def company_app(company_copy, whmcs_server, matomo_server, kayako_server, sqlite_url
                ) -> Iterator[Any]:
    """An app whose sources are the demo company's, served by the stand-ins."""
    folder, _ = company_copy
    sources = company_sources(folder, whmcs_server.url, matomo_server.url, kayako_server.url)
    yield from app_on(sqlite_url, SOURCES=sources, SOURCE_TIMEOUT=8)


