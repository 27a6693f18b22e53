"""The sql adapter's edges: a correction that would change more than the one record it names
changes nothing, and rows a mapping's `where` excludes are never found."""

import sqlite3
from pathlib import Path

import pytest

from dsr.adapters import RecordRef, SourceError, SubjectIdentity
from dsr.adapters.sql import SqlAdapter
from dsr.categories import Category

MAPPING = {"subject": {"table": "people", "key": "code", "label": "Person",
                       "match": {"email": "email"}, "where": {"kind": "person"},
                       "fields": {"name": {"category": "name", "label": "Name"}},
                       "writable": ["name"]}}


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
    adapter = SqlAdapter("people", {"url": f"sqlite:///{database}", "mapping": MAPPING})
    with pytest.raises(SourceError, match="record people A1 was not unique"):
        adapter.correct(RecordRef("people", "people", "A1", "name"), {Category.NAME: "X"})
    names = sorted(n for (n,) in sqlite3.connect(database).execute("SELECT name FROM people"))
    assert names == ["Ana", "Ana's shop", "Bo"]


def test_rows_the_mapping_excludes_are_never_found(database: Path) -> None:
    adapter = SqlAdapter("people", {"url": f"sqlite:///{database}", "mapping": MAPPING})
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
