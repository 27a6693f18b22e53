"""The fixtures of every test, by topic in tests/fixtures/ (and the production shape in
tests/production.py)."""

pytest_plugins = [
    "tests.fixtures.databases",
    "tests.fixtures.mail",
    "tests.fixtures.people",
    "tests.fixtures.browser",
    "tests.fixtures.company",
    "tests.fixtures.legal",
    "tests.adapters.fides_example",
    "tests.production",
]
