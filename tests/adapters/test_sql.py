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
