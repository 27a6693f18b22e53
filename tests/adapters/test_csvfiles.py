"""The csv adapter's edges: a mapping that names a column its file's header lacks stops
start-up naming the setting; a file not exported yet is reported when it is read."""

from pathlib import Path

import pytest

from dsr.adapters import AdapterConfigError, SourceError, SubjectIdentity
from dsr.adapters.csvfiles import CsvAdapter
from tests.adapters.fides_example import ANA, MAPPING
from tests.fixtures.company import export_csv


@pytest.fixture
def exports(fides_sqlite: Path, tmp_path: Path) -> Path:
    """The Fides-shaped shop exported as CSV files."""
    export_csv(fides_sqlite, tmp_path / "exports")
    return tmp_path / "exports"


def test_a_column_the_header_lacks_stops_start_up(exports: Path) -> None:
    login = exports / "login.csv"
    login.write_text(login.read_text().replace("customer_id", "client_id", 1))
    with pytest.raises(AdapterConfigError) as stopped:
        CsvAdapter("shop", {"folder": str(exports), "mapping_file": str(MAPPING)})
    assert str(stopped.value) == "setting 'mapping.related.5.join.column': table 'login' has " \
                                 "no column 'customer_id'."


def test_a_file_not_exported_yet_is_reported_when_read(exports: Path) -> None:
    (exports / "order_item.csv").unlink()
    adapter = CsvAdapter("shop", {"folder": str(exports), "mapping_file": str(MAPPING)})
    assert adapter.check().detail == "shop: order_item.csv is missing."
    with pytest.raises(SourceError, match=r"order_item\.csv is missing"):
        adapter.lookup(SubjectIdentity.of(ANA))
