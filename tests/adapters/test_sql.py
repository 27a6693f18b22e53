"""The sql adapter's edges: a correction that would change more than the one record it names
changes nothing, rows a mapping's `where` excludes are never found, a mapping that does not
fit the database stops start-up naming the setting, and many joined rows are read in
batches."""

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from dsr import ConfigError
from dsr.adapters import AdapterConfigError, RecordRef, SourceError, SubjectIdentity
from dsr.adapters.registry import build_sources
from dsr.adapters.sql import SqlAdapter
from dsr.categories import Category
from tests.adapters.fides_example import ANA, MAPPING, build_shop

PEOPLE = {"subject": {"table": "people", "key": "code", "label": "Person",
                       "match": {"email": "email"}, "where": {"kind": "person"},
                       "fields": {"name": {"category": "name", "label": "Name"}},
                       "writable": ["name"]}}
REGISTER = {"purposes": ["Sales"], "legal_basis": "Contract", "subjects": ["Customers"],
            "categories": ["name"], "retention": "3 years", "recipients": [],
            "origin": "The customer", "transfers": "None outside the EEA.",
            "automated_decisions": "None."}


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "people.sqlite"
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("CREATE TABLE people (code TEXT, kind TEXT, email TEXT, name TEXT)")
        connection.executemany("INSERT INTO people VALUES (?, ?, ?, ?)", [
            ("A1", "person", "ana@example.com", "Ana"),
            ("A1", "person", "bo@example.com", "Bo"),  # a key that is not unique
            ("O1", "organisation", "ana@example.com", "Ana's shop"),
        ])
    connection.close()
    return path


def test_a_correction_matching_two_records_changes_neither(database: Path) -> None:
    adapter = SqlAdapter("people", {"url": f"sqlite:///{database}", "mapping": PEOPLE})
    with pytest.raises(SourceError, match="record people A1 was not unique"):
        adapter.correct(RecordRef("people", "people", "A1", "name"), {Category.NAME: "X"})
    names = sorted(n for (n,) in sqlite3.connect(database).execute("SELECT name FROM people"))
    assert names == ["Ana", "Ana's shop", "Bo"]


def test_rows_the_mapping_excludes_are_never_found(database: Path) -> None:
    adapter = SqlAdapter("people", {"url": f"sqlite:///{database}", "mapping": PEOPLE})
    found = adapter.lookup(SubjectIdentity.of("ana@example.com"))
    assert [f.value for f in found] == ["Ana"]


def test_casefold_columns_find_addresses_stored_in_mixed_case(tmp_path: Path) -> None:
    path = tmp_path / "crm.sqlite"
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, name TEXT)")
        connection.execute("INSERT INTO contacts VALUES (1, 'Alice.Smith@Example.com', 'Alice')")
    connection.close()
    mapping = {"subject": {"table": "contacts", "key": "id", "label": "Contact",
                           "match": {"email": "email"}, "casefold": ["email"],
                           "fields": {"name": {"category": "name", "label": "Name"}}}}
    adapter = SqlAdapter("crm", {"url": f"sqlite:///{path}", "mapping": mapping})
    assert [f.value for f in adapter.lookup(SubjectIdentity.of("alice.smith@example.com"))] == \
        ["Alice"]
    assert adapter.check().warnings == (
        "contacts.email is searched without regard to case but has no index on lower(email): "
        "lookups will scan the table.",)
    connection = sqlite3.connect(path)
    connection.execute("CREATE INDEX contacts_email_lower ON contacts (lower(email))")
    connection.close()
    fresh = SqlAdapter("crm", {"url": f"sqlite:///{path}", "mapping": mapping})
    assert fresh.check().warnings == ()


def shop_mapping(**changes: dict[str, Any]) -> dict[str, Any]:
    """The Fides-shaped shop's mapping, with some related tables' settings changed."""
    mapping = yaml.safe_load(MAPPING.read_text())
    for table, change in changes.items():
        spec = next(s for s in mapping["related"] if s["table"] == table)
        spec.update(change)
    return mapping


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (shop_mapping(login={"table": "logins"}),
         "setting 'mapping.related.5.table': the database has no table 'logins'."),
        (shop_mapping(login={"context": ["logged_in_at"]}),
         "setting 'mapping.related.5.context': table 'login' has no column 'logged_in_at'."),
        (shop_mapping(service_request={"match": {"email": ["email", "other_email"]}}),
         "setting 'mapping.related.7.match.email.1': table 'service_request' has no column "
         "'other_email'."),
        (shop_mapping(order_item={"key": ["order_id", "line"]}),
         "setting 'mapping.related.2.key.1': table 'order_item' has no column 'line'."),
        (shop_mapping(order_item={"join": {"table": "orders", "column": "order_id",
                                           "to": "number"}}),
         "setting 'mapping.related.2.join.to': table 'orders' has no column 'number'."),
        (shop_mapping(product={"join": {"table": "order_items", "column": "id",
                                        "to": "product_id"}}),
         "setting 'mapping.related.3.join.table': 'order_items' is not a mapped table."),
        (shop_mapping(orders={"join": {"table": "order_item", "column": "id",
                                       "to": "order_id"}}),
         "setting 'mapping.related.1.join': the joins form a cycle (orders -> order_item -> "
         "orders)."),
        (shop_mapping(login={"join": {"table": "login", "column": "id", "to": "id"}}),
         "setting 'mapping.related.5.join': the joins form a cycle (login -> login)."),
        ({**shop_mapping(), "subject": {**shop_mapping()["subject"],
                                        "join": {"column": "id", "to": "customer_id"}}},
         "setting 'mapping': Value error, subject.join: the subject table joins to no other "
         "table."),
        (shop_mapping(orders={"activity": "purchase"}),
         "setting 'mapping.related.1.activity': Value error, 'purchase' is not a kind of "
         "record (one of chat, invoice, message, order, payment, record, sign_in, ticket, "
         "visit)."),
        (shop_mapping(orders={"activity": "name"}),
         "setting 'mapping.related.1.activity': Value error, 'name' is not a kind of record "
         "(one of chat, invoice, message, order, payment, record, sign_in, ticket, visit)."),
        (shop_mapping(order_item={"writable": ["quantity"],
                                  "fields": {"quantity": {"category": "name", "label": "Q"}}}),
         "setting 'mapping.related.2': Value error, writable columns need a key of one column."),
    ],
)
def test_a_mapping_that_does_not_fit_the_database_stops_start_up(
    fides_sqlite: Path, mapping: dict[str, Any], message: str
) -> None:
    with pytest.raises(AdapterConfigError) as stopped:
        SqlAdapter("shop", {"url": f"sqlite:///{fides_sqlite}", "mapping": mapping})
    assert message in str(stopped.value)


def test_the_message_names_the_source(fides_sqlite: Path) -> None:
    source = {"adapter": "sql", "register": REGISTER, "settings": {
        "url": f"sqlite:///{fides_sqlite}", "mapping": shop_mapping(login={"table": "logins"})}}
    with pytest.raises(ConfigError) as stopped:
        build_sources({"shop": source}, include_installed=False)
    assert str(stopped.value) == "Source 'shop': setting 'mapping.related.5.table': the " \
                                 "database has no table 'logins'."


def test_a_join_to_a_table_mapped_twice_is_refused(fides_sqlite: Path) -> None:
    mapping = shop_mapping()
    mapping["related"].append({"table": "orders", "key": "id", "label": "Open order",
                               "join": {"column": "customer_id", "to": "id"}})
    with pytest.raises(AdapterConfigError) as stopped:
        SqlAdapter("shop", {"url": f"sqlite:///{fides_sqlite}", "mapping": mapping})
    assert str(stopped.value).startswith(
        "setting 'mapping.related.0.join.1.table': 'orders' is mapped more than once")


def test_a_database_that_did_not_answer_at_start_up_is_checked_when_it_does(
    tmp_path: Path,
) -> None:
    path = tmp_path / "later.sqlite"
    mapping = shop_mapping(login={"table": "logins"})
    adapter = SqlAdapter("shop", {"url": f"sqlite:///{path}", "mapping": mapping})
    assert not path.exists()  # building the source created no database
    build_shop(f"sqlite:///{path}")
    health = adapter.check()
    assert not health.ok
    assert health.detail == "setting 'mapping.related.5.table': the database has no table " \
                            "'logins'."
    with pytest.raises(SourceError) as failed:
        adapter.lookup(SubjectIdentity.of(ANA))
    assert str(failed.value) == f"shop: {health.detail}"


def test_thousands_of_joined_rows_are_read_in_a_few_batches(tmp_path: Path) -> None:
    path = tmp_path / "busy.sqlite"
    build_shop(f"sqlite:///{path}")
    connection = sqlite3.connect(path)
    with connection:
        connection.executemany("INSERT INTO orders VALUES (?, 1, 1, 'card_ana')",
                               [(f"ord_x{n}",) for n in range(2500)])
        connection.executemany("INSERT INTO order_item VALUES (?, 1, 4, 1)",
                               [(f"ord_x{n}",) for n in range(2500)])
    connection.close()
    adapter = SqlAdapter("shop", {"url": f"sqlite:///{path}", "mapping_file": str(MAPPING)})
    statements: list[str] = []
    sa.event.listen(adapter._engine, "before_cursor_execute",
                    lambda _c, _cur, statement, *_: statements.append(statement))
    found = adapter.lookup(SubjectIdentity.of(ANA))
    items = [f for f in found if f.label == "Order item"]
    assert len(items) == 2503
    assert {f.value for f in found if f.label == "Product ordered"} >= {"Olive Focaccia"}
    reads = [statement.split("FROM")[1].split()[0] for statement in statements]
    # 2,502 orders' items at 1,000 orders a read; every other table in one.
    assert sorted(reads) == sorted(["customer", "orders", "order_item", "order_item",
                                    "order_item", "product", "payment_card", "address", "login",
                                    "visit", "service_request"])
