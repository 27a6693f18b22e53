"""Sources from the configuration: misconfiguration stops start-up with a message naming the
source and the setting; entry points only when allowed; `flask sources` for operators."""

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select

from dsr import ConfigError, create_app
from dsr.adapters.registry import build_sources
from dsr.extensions import db
from dsr.models import AuditEvent
from tests.fixtures.company import MAPPINGS
from tests.fixtures.databases import config_for

REGISTER = {"purposes": ["Billing"], "legal_basis": "Contract", "subjects": ["Customers"],
            "categories": ["name", "email", "bank_details"], "retention": "3 years",
            "recipients": ["Bank"], "origin": "The customer", "transfers": "None outside the EEA.",
            "automated_decisions": "None."}


def billing(folder: Path, **settings: object) -> dict[str, object]:
    return {"adapter": "sql", "register": REGISTER, "settings": {
        "url": f"sqlite:///{folder / 'billing.sqlite'}",
        "mapping_file": str(MAPPINGS / "billing.yaml"), **settings}}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"adapter": "ldap", "register": REGISTER},
         "Source 'crm', setting 'adapter': no adapter 'ldap' (known: csv, dsr, kayako, matomo, "
         "sql, whmcs)."),
        ({"adapter": "sql", "register": {**REGISTER, "purposes": []}},
         "Source 'crm', setting 'register.purposes': List should have at least 1 item"),
        ({"adapter": "sql"}, "Source 'crm', setting 'register': Field required."),
        ({"adapter": "sql", "register": {**REGISTER, "retention_days": 0}},
         "Source 'crm', setting 'register.retention_days': Input should be greater than or "
         "equal to 1"),
        ({"adapter": "sql", "register": {k: v for k, v in REGISTER.items() if k != "transfers"}},
         "Source 'crm', setting 'register.transfers': Field required."),
        ({"adapter": "sql", "register": {k: v for k, v in REGISTER.items()
                                         if k != "automated_decisions"}},
         "Source 'crm', setting 'register.automated_decisions': Field required."),
        ({"adapter": "sql", "register": {**REGISTER, "categories": ["shoe size"]}},
         "Source 'crm', setting 'register.categories.0': Input should be"),
        ({"adapter": "sql", "register": REGISTER, "settings": {}},
         "Source 'crm': setting 'url' is required"),
        ({"adapter": "whmcs", "register": REGISTER,
          "settings": {"url": "https://billing.example", "identifier": "x",
                       "secret": {"env": "DSR_TEST_NOT_SET"}}},
         "Source 'crm', setting 'secret': the environment variable DSR_TEST_NOT_SET is not set."),
        ({"adapter": "matomo", "register": REGISTER, "settings": {"url": "ftp://x", "token": "t"}},
         "Source 'crm': setting 'url' must be an http:// or https:// address."),
        ({"adapter": "sql", "register": REGISTER, "settings": {
            "url": "sqlite://", "mapping": {"subject": {"table": "t", "key": "id", "label": "T",
                                                        "fields": {}}}}},
         "Source 'crm': setting 'mapping': Value error, subject.match must name"),
        ({"adapter": "sql", "register": REGISTER, "settings": {
            "url": "sqlite://", "mapping": {"subject": {
                "table": "t; DROP TABLE users", "key": "id", "label": "T",
                "match": {"email": "email"}}}}},
         "is not a plain table or column name"),
    ],
)
def test_a_misconfigured_source_names_the_source_and_setting(
    source: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as stopped:
        build_sources({"crm": source}, include_installed=False)
    assert message in str(stopped.value)


def test_a_mapping_file_that_is_not_yaml_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "mapping.yaml"
    broken.write_text("subject: [unclosed\n")
    with pytest.raises(ConfigError, match=f"setting 'mapping_file': {broken} is not valid YAML"):
        build_sources({"crm": {"adapter": "sql", "register": REGISTER, "settings": {
            "url": "sqlite://", "mapping_file": str(broken)}}}, include_installed=False)


def test_the_app_refuses_to_start_with_a_misconfigured_source(sqlite_url: str) -> None:
    config = config_for(sqlite_url) | {"DSR_REGISTER": REGISTER, "SOURCES": {
        "crm": {"adapter": "ldap", "register": REGISTER}}}
    with pytest.raises(ConfigError, match="Source 'crm', setting 'adapter'"):
        create_app(config)


def test_installed_adapters_load_only_when_entry_points_are_allowed(
    installed_example: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.syspath_prepend(str(installed_example))
    source = {"adapter": "newsletter", "register": REGISTER,
              "settings": {"path": str(tmp_path / "subscribers.jsonl")}}
    with pytest.raises(ConfigError, match="no adapter 'newsletter'"):
        build_sources({"news": source}, include_installed=False)
    built = build_sources({"news": source}, include_installed=True)
    assert type(built["news"].adapter).__name__ == "NewsletterAdapter"


@pytest.fixture
def sources_app(demo_company, sqlite_url: str):
    folder, people = demo_company
    app = create_app(config_for(sqlite_url) | {"DSR_REGISTER": REGISTER, "SOURCES": {
        "billing": billing(folder),
        "missing": billing(folder / "nowhere"),
    }})
    with app.app_context():
        yield app, people
        db.engine.dispose()


def test_sources_check_reports_each_source_and_fails_when_one_does(sources_app) -> None:
    app, _ = sources_app
    result = app.test_cli_runner().invoke(args=["sources", "check"])
    assert result.exit_code == 1
    assert "OK   billing (Billing): 4 mapped tables readable." in result.output
    assert "FAIL missing (Billing): cannot reach the database" in result.output


def test_sources_check_warns_of_searched_columns_without_an_index(
    demo_company, sqlite_url: str, tmp_path: Path
) -> None:
    folder, _ = demo_company
    copy = tmp_path / "billing.sqlite"
    copy.write_bytes((folder / "billing.sqlite").read_bytes())
    connection = sqlite3.connect(copy)
    connection.execute("DROP INDEX tblclients_email")
    connection.close()
    app = create_app(config_for(sqlite_url) | {"DSR_REGISTER": REGISTER,
                                               "SOURCES": {"billing": billing(tmp_path)}})
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["sources", "check"])
        db.engine.dispose()
    assert result.exit_code == 0
    assert ("warning: tblclients.email is searched but has no index: lookups will scan the "
            "table.") in result.output


def test_sources_lookup_masks_values_unless_revealed_and_is_audited(sources_app) -> None:
    app, people = sources_app
    me = people[0]
    runner = app.test_cli_runner()
    masked = runner.invoke(args=["sources", "lookup", me.email])
    assert "billing: " in masked.output and "finding(s)" in masked.output
    assert me.email not in masked.output and me.phone not in masked.output
    assert "missing: FAILED: missing: the database did not answer" in masked.output
    revealed = runner.invoke(args=["sources", "lookup", me.email, "--reveal"])
    assert me.email in revealed.output and me.phone in revealed.output
    events = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "sources.lookup")).scalars().all()
    assert [e.details["flag"] for e in events] == [False, True]
    assert all(me.email not in str(e.details) for e in events)
