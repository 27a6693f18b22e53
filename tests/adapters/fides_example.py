"""A shop shaped like the example dataset of Ethyca Fides (customer, address, orders,
order_item, product, payment_card, login, visit, service_request, and their references),
written for dsr's tests in SQLite, PostgreSQL and CSV, with the conformance cases on it."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from dsr.adapters import SubjectIdentity
from dsr.categories import Category
from tests.fixtures.company import AdapterCase, export_csv

MAPPING = Path(__file__).with_name("fides_example.yaml")

SCHEMA = [
    "CREATE TABLE product (id INTEGER PRIMARY KEY, name VARCHAR(100), "
    "description VARCHAR(200), price VARCHAR(20))",
    "CREATE TABLE address (id INTEGER PRIMARY KEY, house INTEGER, street VARCHAR(100), "
    "city VARCHAR(100), state VARCHAR(100), zip VARCHAR(100))",
    "CREATE TABLE customer (id INTEGER PRIMARY KEY, email VARCHAR(100), name VARCHAR(100), "
    "created TIMESTAMP, address_id BIGINT)",
    "CREATE TABLE payment_card (id VARCHAR(100) PRIMARY KEY, name VARCHAR(100), ccn BIGINT, "
    "code SMALLINT, preferred BOOLEAN, customer_id INTEGER, billing_address_id BIGINT)",
    "CREATE TABLE orders (id VARCHAR(100) PRIMARY KEY, customer_id INTEGER, "
    "shipping_address_id BIGINT, payment_card_id VARCHAR(100))",
    "CREATE TABLE order_item (order_id VARCHAR(100), item_no SMALLINT, product_id INTEGER, "
    "quantity SMALLINT, PRIMARY KEY (order_id, item_no))",
    "CREATE TABLE visit (email VARCHAR(100), last_visit TIMESTAMP, "
    "PRIMARY KEY (email, last_visit))",
    "CREATE TABLE login (id INTEGER PRIMARY KEY, customer_id INTEGER, time TIMESTAMP)",
    "CREATE TABLE service_request (id VARCHAR(100) PRIMARY KEY, email VARCHAR(100), "
    "alt_email VARCHAR(100), opened DATE, closed DATE, employee_id INTEGER)",
    "CREATE INDEX customer_email ON customer (email)",
    "CREATE INDEX payment_card_customer ON payment_card (customer_id)",
    "CREATE INDEX orders_customer ON orders (customer_id)",
    "CREATE INDEX login_customer ON login (customer_id)",
    "CREATE INDEX service_request_email ON service_request (email)",
    "CREATE INDEX service_request_alt_email ON service_request (alt_email)",
]

ANA, BEN = "ana.weber@example.com", "ben.kraus@example.com"

ROWS = [
    "INSERT INTO product VALUES (1, 'Rye Sourdough', 'A dark rye loaf', '6.50 EUR'), "
    "(2, 'Seeded Spelt', 'Spelt with sunflower seeds', '5.80 EUR'), "
    "(3, 'Cinnamon Knot', 'A sweet knot', '3.20 EUR'), "
    "(4, 'Olive Focaccia', 'Flat bread with olives', '4.90 EUR')",
    "INSERT INTO address VALUES (1, 12, 'Lindenstrasse', 'Berlin', 'BE', '10115'), "
    "(2, 3, 'Hafenweg', 'Hamburg', 'HH', '20457'), "
    "(3, 8, 'Rosenweg', 'Koeln', 'NW', '50667'), "
    "(4, 21, 'Bergstrasse', 'Leipzig', 'SN', '04109'), "
    "(5, 1, 'Backstubengasse', 'Potsdam', 'BB', '14467')",
    f"INSERT INTO customer VALUES (1, '{ANA}', 'Ana Weber', '2024-03-01 09:15:00', 1), "
    f"(2, '{BEN}', 'Ben Kraus', '2024-04-11 17:02:00', 3)",
    "INSERT INTO payment_card VALUES "
    "('card_ana', 'Ana Weber', 4111111111111111, 321, TRUE, 1, 1), "
    "('card_ben', 'Benedikt Kraus', 5500000000000004, 123, TRUE, 2, 4)",
    "INSERT INTO orders VALUES ('ord_a1', 1, 2, 'card_ana'), ('ord_a2', 1, 1, 'card_ana'), "
    "('ord_b1', 2, 4, 'card_ben')",
    "INSERT INTO order_item VALUES ('ord_a1', 1, 1, 2), ('ord_a1', 2, 3, 4), "
    "('ord_a2', 1, 2, 1), ('ord_b1', 1, 4, 1), ('ord_b1', 2, 1, 1)",
    f"INSERT INTO visit VALUES ('{ANA}', '2024-05-02 08:00:00'), "
    f"('{ANA}', '2024-05-09 08:30:00'), ('{BEN}', '2024-05-03 10:00:00')",
    "INSERT INTO login VALUES (1, 1, '2024-05-01 07:59:00'), (2, 1, '2024-05-08 08:29:00'), "
    "(3, 2, '2024-05-03 09:58:00')",
    f"INSERT INTO service_request VALUES ('sr_1', '{ANA}', NULL, '2024-05-10', '2024-05-12', 1), "
    f"('sr_2', 'orders@weber-design.example', '{ANA}', '2024-06-01', NULL, 2), "
    f"('sr_3', '{BEN}', NULL, '2024-06-02', NULL, 1)",
]

# What Fides's access package holds for Ana, by table and key: her account, her home address
# and the shipping address of one order (the other order and her card use the home one), her
# orders, their items and the products in them, her card, sign-ins, visits and the service
# requests that name her address in either column.
ACCESS_PACKAGE = {
    ("customer", "1"),
    ("address", "1"), ("address", "2"),
    ("orders", "ord_a1"), ("orders", "ord_a2"),
    ("order_item", "ord_a1/1"), ("order_item", "ord_a1/2"), ("order_item", "ord_a2/1"),
    ("product", "1"), ("product", "2"), ("product", "3"),
    ("payment_card", "card_ana"),
    ("login", "1"), ("login", "2"),
    ("visit", "2024-05-02 08:00:00"), ("visit", "2024-05-09 08:30:00"),
    ("service_request", "sr_1"), ("service_request", "sr_2"),
}
# What only Ben's rows hold: his account, addresses, card, order, product and sign-in.
BENS = {BEN, "Ben Kraus", "Benedikt Kraus", "Rosenweg", "Koeln", "Bergstrasse", "Leipzig",
        "5500000000000004", "ord_b1", "Olive Focaccia", "2024-05-03", "sr_3", "Backstubengasse"}
EXPECTED = {(Category.NAME, "Ana Weber"), (Category.EMAIL, ANA),
            (Category.ADDRESS, "Lindenstrasse"), (Category.ADDRESS, "Hafenweg"),
            (Category.BANK_DETAILS, "4111111111111111"), (Category.ORDER, "ord_a1"),
            (Category.RECORD, "Cinnamon Knot"), (Category.SIGN_IN, "Sign-in"),
            (Category.TICKET, "Service request"),
            (Category.EMAIL, "orders@weber-design.example")}


def build_shop(url: str) -> None:
    """Create the shop's tables and rows in the (empty) database at `url`."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for statement in [*SCHEMA, *ROWS]:
            connection.exec_driver_sql(statement)
    engine.dispose()


def settings(url: str) -> dict[str, str]:
    return {"url": url, "mapping_file": str(MAPPING)}


@pytest.fixture
def fides_sqlite(tmp_path: Path) -> Path:
    """The shop in an SQLite file."""
    path = tmp_path / "shop.sqlite"
    build_shop(f"sqlite:///{path}")
    return path


@pytest.fixture
def sql_fides_case(fides_sqlite: Path, tmp_path: Path) -> AdapterCase:
    """The sql adapter on the Fides-shaped shop in SQLite."""
    from dsr.adapters.sql import SqlAdapter

    return AdapterCase(
        adapter=SqlAdapter("shop", settings(f"sqlite:///{fides_sqlite}")),
        subject=SubjectIdentity.of(ANA),
        expected=EXPECTED,
        foreign=BENS,
        broken=lambda: SqlAdapter("shop", settings(f"sqlite:///{tmp_path / 'gone' / 'x.db'}")),
        correction=(Category.NAME, "Ana Weber", "Ana Weber-Lindqvist"),
    )


@pytest.fixture
def sql_fides_postgres_case(postgres_url: str) -> Iterator[AdapterCase]:
    """The sql adapter on the Fides-shaped shop in PostgreSQL."""
    from dsr.adapters.sql import SqlAdapter

    build_shop(postgres_url)
    adapter = SqlAdapter("shop", settings(postgres_url))
    yield AdapterCase(
        adapter=adapter,
        subject=SubjectIdentity.of(ANA),
        expected=EXPECTED,
        foreign=BENS,
        broken=lambda: SqlAdapter("shop", settings(
            postgres_url.rsplit("/", 1)[0] + "/no_such_database")),
        correction=(Category.NAME, "Ana Weber", "Ana Weber-Lindqvist"),
    )
    adapter._engine.dispose()


@pytest.fixture
def csv_fides_case(fides_sqlite: Path, tmp_path: Path) -> AdapterCase:
    """The csv adapter on CSV exports of the Fides-shaped shop."""
    from dsr.adapters.csvfiles import CsvAdapter

    export_csv(fides_sqlite, tmp_path / "exports")
    folder = {"folder": str(tmp_path / "exports"), "mapping_file": str(MAPPING)}
    return AdapterCase(
        adapter=CsvAdapter("shop-export", folder),
        subject=SubjectIdentity.of(ANA),
        expected=EXPECTED,
        foreign=BENS,
        broken=lambda: CsvAdapter("shop-export", folder | {"folder": str(tmp_path / "gone")}),
    )
