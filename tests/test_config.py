"""Configuration layers and start-up errors."""

from pathlib import Path

import pytest

from dsr import ConfigError, create_app


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty instance folder in place of the repository's, and no DSR_* variables."""
    folder = tmp_path / "instance"
    folder.mkdir()
    for name in [n for n in __import__("os").environ if n.startswith("DSR_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DSR_INSTANCE_PATH", str(folder))
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
        'SECRET_KEY = "from-file"\nHOLIDAY_COUNTRY = "FR"\nPAGE_SIZE = 10\n'
    )
    monkeypatch.setenv("DSR_PAGE_SIZE", "25")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-file"
    assert app.config["HOLIDAY_COUNTRY"] == "FR"
    assert app.config["PAGE_SIZE"] == 25
    assert app.config["TIMEZONE"] == "Europe/Berlin"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'dsr.sqlite'}"


def test_environment_sets_the_database(
    instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSR_SECRET_KEY", "from-env")
    monkeypatch.setenv("DSR_SQLALCHEMY_DATABASE_URI", "postgresql+psycopg://dsr@db/dsr")
    assert create_app().config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://dsr@db/dsr"


def test_database_url_is_an_alias(instance: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSR_SECRET_KEY", "from-env")
    monkeypatch.setenv("DSR_DATABASE_URL", "postgresql+psycopg://dsr@db/dsr")
    assert create_app().config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://dsr@db/dsr"


def test_the_test_mapping_wins_and_skips_the_instance_file(
    instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (instance / "config.py").write_text('SECRET_KEY = "from-file"\nHOLIDAY_COUNTRY = "FR"\n')
    monkeypatch.setenv("DSR_PAGE_SIZE", "25")
    app = create_app({"TESTING": True, "PAGE_SIZE": 5})
    assert app.config["PAGE_SIZE"] == 5
    assert app.config["HOLIDAY_COUNTRY"] == "DE"
    assert app.config["SECRET_KEY"] is None
