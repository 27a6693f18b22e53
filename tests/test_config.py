"""Configuration layers and start-up errors."""

from pathlib import Path

import pytest

from dsr import ConfigError, create_app

FILE_KEY = "f" * 40
ENV_KEY = "e" * 40


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty instance folder in place of the repository's, no DSR_* variables but the
    audit key's file, which lies elsewhere."""
    folder = tmp_path / "instance"
    folder.mkdir()
    for name in [n for n in __import__("os").environ if n.startswith("DSR_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DSR_INSTANCE_PATH", str(folder))
    (tmp_path / "audit.key").write_text(f"1 {'k' * 40}\n")
    monkeypatch.setenv("DSR_AUDIT_KEY_FILE", str(tmp_path / "audit.key"))
    return folder


def test_missing_secret_key_outside_tests_stops_start_up_with_a_clear_message(
    instance: Path,
) -> None:
    with pytest.raises(ConfigError) as stopped:
        create_app()
    message = str(stopped.value)
    assert "SECRET_KEY is not set" in message
    assert str(instance / "config.py") in message
    assert "DSR_SECRET_KEY" in message


def test_layers_defaults_then_instance_file_then_environment(
    instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (instance / "config.py").write_text(
        f'SECRET_KEY = "{FILE_KEY}"\nHOLIDAY_COUNTRY = "FR"\nPAGE_SIZE = 10\n'
    )
    monkeypatch.setenv("DSR_PAGE_SIZE", "25")
    app = create_app()
    assert app.config["SECRET_KEY"] == FILE_KEY
    assert app.config["HOLIDAY_COUNTRY"] == "FR"
    assert app.config["PAGE_SIZE"] == 25
    assert app.config["TIMEZONE"] == "Europe/Berlin"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'dsr.sqlite'}"


def test_environment_sets_the_database(
    instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSR_SECRET_KEY", ENV_KEY)
    monkeypatch.setenv("DSR_SQLALCHEMY_DATABASE_URI", "postgresql+psycopg://dsr@db/dsr")
    assert create_app().config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://dsr@db/dsr"


def test_database_url_is_an_alias(instance: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSR_SECRET_KEY", ENV_KEY)
    monkeypatch.setenv("DSR_DATABASE_URL", "postgresql+psycopg://dsr@db/dsr")
    assert create_app().config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://dsr@db/dsr"


def test_the_test_mapping_wins_and_skips_the_instance_file(
    instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (instance / "config.py").write_text(f'SECRET_KEY = "{FILE_KEY}"\nHOLIDAY_COUNTRY = "FR"\n')
    monkeypatch.setenv("DSR_PAGE_SIZE", "25")
    app = create_app({"TESTING": True, "PAGE_SIZE": 5})
    assert app.config["PAGE_SIZE"] == 5
    assert app.config["HOLIDAY_COUNTRY"] == "DE"
    assert app.config["SECRET_KEY"] is None


def test_without_an_audit_key_start_up_stops_and_says_where_to_put_one(
    instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSR_SECRET_KEY", ENV_KEY)
    monkeypatch.delenv("DSR_AUDIT_KEY_FILE")
    with pytest.raises(ConfigError, match="No audit key: set AUDIT_KEY_FILE"):
        create_app()


def test_the_audit_key_comes_from_its_file_and_the_witness_lies_apart(
    instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSR_SECRET_KEY", ENV_KEY)
    app = create_app()
    assert app.extensions["dsr.audit.keys"] == {"1": b"k" * 40}
    assert app.config["AUDIT_WITNESS_FILE"] == str(instance / "audit-witness" / "heads.log")


@pytest.mark.parametrize("key", ["change-me", "short", "x" * 31])
def test_a_placeholder_or_short_secret_key_stops_start_up(
    instance: Path, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    monkeypatch.setenv("DSR_SECRET_KEY", key)
    with pytest.raises(ConfigError, match="too short or a placeholder"):
        create_app()


def test_the_example_configuration_is_refused_until_a_key_is_set(
    instance: Path,
) -> None:
    example = Path(__file__).resolve().parent.parent / "instance" / "config.example.py"
    (instance / "config.py").write_text(example.read_text())
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app()


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("HOLIDAY_COUNTRY", "XX", "Country XX not available"),
        ("HOLIDAY_SUBDIVISION", "ZZ", "does not have subdivision ZZ"),
        ("TIMEZONE", "Mars/Olympus", "'Mars/Olympus' is not a known time zone"),
    ],
)
def test_an_unknown_calendar_stops_start_up(
    instance: Path, monkeypatch: pytest.MonkeyPatch, setting: str, value: str, message: str
) -> None:
    monkeypatch.setenv("DSR_SECRET_KEY", ENV_KEY)
    monkeypatch.setenv(f"DSR_{setting}", value)
    with pytest.raises(ConfigError, match=message):
        create_app()
