"""A shop shaped like Fides's example dataset, read through one mapping in SQLite, PostgreSQL
and CSV: the lookup returns every row Fides's access package holds for a customer, however
many references away, and nothing of another customer."""

from typing import Any

import pytest

from dsr.adapters import SubjectIdentity
from dsr.adapters.mapping import Conditions, TableSpec
from tests.adapters.fides_example import ACCESS_PACKAGE
from tests.fixtures.company import AdapterCase

SHOPS = ["sql_fides_case", "sql_fides_postgres_case", "csv_fides_case"]


@pytest.fixture(params=SHOPS)
def shop(request: pytest.FixtureRequest) -> AdapterCase:
    case: AdapterCase = request.getfixturevalue(request.param)
    return case


def test_the_lookup_returns_every_row_of_the_access_package(shop: AdapterCase) -> None:
    found = {(f.record.kind, f.record.key) for f in shop.adapter.lookup(shop.subject)}
    assert found == ACCESS_PACKAGE


def test_home_and_shipping_addresses_items_and_products_are_found(shop: AdapterCase) -> None:
    findings = shop.adapter.lookup(shop.subject)
    streets = {f.value for f in findings if f.label == "Street"}
    assert streets == {"Lindenstrasse", "Hafenweg"}
    items = {(f.context["order_id"], f.context["quantity"]) for f in findings
             if f.label == "Order item"}
    assert items == {("ord_a1", "2"), ("ord_a1", "4"), ("ord_a2", "1")}
    products = {f.value: f.context for f in findings if f.label == "Product ordered"}
    assert products["Rye Sourdough"] == {"description": "A dark rye loaf", "price": "6.50 EUR"}
    assert set(products) == {"Rye Sourdough", "Seeded Spelt", "Cinnamon Knot"}


def test_each_table_is_read_once_however_deep(shop: AdapterCase,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[str] = []
    rows = shop.adapter.rows  # type: ignore[attr-defined]

    def counted(spec: TableSpec, columns: list[str], conditions: Conditions) -> Any:
        read.append(spec.table)
        return rows(spec, columns, conditions)

    monkeypatch.setattr(shop.adapter, "rows", counted)
    shop.adapter.lookup(shop.subject)
    assert sorted(read) == sorted({table for table, _ in ACCESS_PACKAGE})


def test_nothing_of_the_other_customer_is_found(shop: AdapterCase) -> None:
    texts = " ".join(text for f in shop.adapter.lookup(shop.subject)
                     for text in (f.value, f.record.key, *f.context.values()))
    assert {value for value in shop.foreign if value in texts} == set()


def test_a_request_naming_her_only_as_its_other_address_is_found(shop: AdapterCase) -> None:
    requests = {f.record.key: f.context for f in shop.adapter.lookup(shop.subject)
                if f.label == "Service request"}
    assert requests == {"sr_1": {"opened": "2024-05-10", "closed": "2024-05-12"},
                        "sr_2": {"opened": "2024-06-01"}}


def test_the_other_customer_gets_his_own_rows(shop: AdapterCase) -> None:
    findings = shop.adapter.lookup(SubjectIdentity.of("ben.kraus@example.com"))
    assert {f.value for f in findings if f.label == "Street"} == {"Rosenweg", "Bergstrasse"}
    assert {f.value for f in findings if f.label == "Product ordered"} == \
        {"Olive Focaccia", "Rye Sourdough"}


def test_every_column_the_shop_is_searched_by_is_indexed(shop: AdapterCase) -> None:
    health = shop.adapter.check()
    assert health.ok and health.warnings == ()
