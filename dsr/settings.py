"""Loading the configuration in layers, and refusing one that cannot run dsr safely."""

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from flask import Flask

MIN_SECRET_KEY_LENGTH = 32
PLACEHOLDER_KEYS = {"change-me", "changeme", "secret", "dev", "development"}


class ConfigError(RuntimeError):
    """The configuration cannot run dsr safely; the message says what to set."""


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Layer the configuration: defaults, instance/config.py, DSR_* variables, the test mapping.

    Tests pass their own mapping instead of reading the developer's instance/config.py.
    """
    app.config.from_object("dsr.config")
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("DSR")
    if test_config is not None:
        app.config.from_mapping(test_config)

    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = (
            app.config["DATABASE_URL"] or f"sqlite:///{Path(app.instance_path) / 'dsr.sqlite'}"
        )
    if not app.testing:
        check_secret_key(app)
    check_calendar(app)


def check_secret_key(app: Flask) -> None:
    """Refuse to run with no secret key, or one short or public enough to be guessed: whoever
    knows it can forge anyone's session."""
    key = app.config["SECRET_KEY"]
    where = (f"Put SECRET_KEY = '<a long random string>' in {Path(app.instance_path) / 'config.py'}"
             " or set the DSR_SECRET_KEY environment variable (python -c 'import secrets; "
             "print(secrets.token_hex(32))' makes one).")
    if not key:
        raise ConfigError(f"SECRET_KEY is not set. {where}")
    if not isinstance(key, str | bytes) or len(key) < MIN_SECRET_KEY_LENGTH \
            or key in PLACEHOLDER_KEYS:
        raise ConfigError(
            f"SECRET_KEY is too short or a placeholder: use at least {MIN_SECRET_KEY_LENGTH} "
            f"random characters. {where}"
        )


def check_calendar(app: Flask) -> None:
    """Refuse an unknown holiday country or time zone now, not at the first request."""
    try:
        ZoneInfo(app.config["TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ConfigError(f"TIMEZONE {app.config['TIMEZONE']!r} is not a known time zone "
                          "(use a name such as Europe/Berlin).") from None
    try:
        holidays.country_holidays(app.config["HOLIDAY_COUNTRY"],
                                  subdiv=app.config["HOLIDAY_SUBDIVISION"])
    except NotImplementedError as error:
        raise ConfigError(f"HOLIDAY_COUNTRY/HOLIDAY_SUBDIVISION: {error}") from None
