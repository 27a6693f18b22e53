"""dsr: a data-subject-rights request engine, as a Flask application."""

import os
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

ROOT = Path(__file__).resolve().parent.parent
MIN_SECRET_KEY_LENGTH = 32
PLACEHOLDER_KEYS = {"change-me", "changeme", "secret", "dev", "development"}


class ConfigError(RuntimeError):
    """The configuration cannot run dsr safely; the message says what to set."""


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, error pages and commands."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        instance_path=os.environ.get("DSR_INSTANCE_PATH") or str(ROOT / "instance"),
    )
    load_config(app, test_config)
    register_extensions(app)
    register_sources(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_filters(app)
    register_commands(app)
    return app


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
    import holidays

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


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions of dsr.extensions to this app."""
    from dsr.auth import load_user
    from dsr.extensions import csrf, db, limiter, login_manager, migrate

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "dsr" / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    if app.config["PROXY_FIX_X_FOR"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"])  # type: ignore[method-assign]
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Please sign in to continue."
    login_manager.session_protection = "strong"
    login_manager.user_loader(load_user)


def register_sources(app: Flask) -> None:
    """Build every configured source's adapter; a misconfigured one stops start-up."""
    from dsr.adapters.registry import build_sources
    from dsr.demo.sources import demo_sources

    config = app.config["SOURCES"] or (demo_sources(app.instance_path) if app.config["DEMO"]
                                       else {})
    app.extensions["dsr.sources"] = build_sources(config, app.config["ADAPTER_ENTRY_POINTS"])


class IdConverter(IntegerConverter):
    """A row id in a URL: a number that fits a database integer; a bigger one is a 404."""

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, max=2**31 - 1)


def register_blueprints(app: Flask) -> None:
    """Mount the web and API blueprints."""
    app.url_map.converters["id"] = IdConverter
    from dsr.api.views import blueprint as api
    from dsr.auth.views import blueprint as auth
    from dsr.console.review import blueprint as review
    from dsr.console.views import blueprint as console
    from dsr.extensions import csrf
    from dsr.notify.views import blueprint as mailbox
    from dsr.portal.subject import blueprint as subject
    from dsr.portal.views import blueprint as portal
    from dsr.register.views import blueprint as register

    app.register_blueprint(portal)
    app.register_blueprint(subject)
    app.register_blueprint(auth)
    app.register_blueprint(console)
    app.register_blueprint(review)
    app.register_blueprint(register)
    # The API authenticates with bearer tokens, never with the session cookie, so a forged
    # cross-site form cannot use it: CSRF tokens have nothing to protect there.
    csrf.exempt(api)
    app.register_blueprint(api)
    if mailbox_enabled(app):
        app.register_blueprint(mailbox)


def mailbox_enabled(app: Flask) -> bool:
    """Show the development mailbox only where no mail leaves and nobody real is involved."""
    trial = app.config["DEMO"] or app.debug or app.testing
    return bool(trial and not app.config["MAIL_SERVER"])


def register_errorhandlers(app: Flask) -> None:
    """Answer errors with readable pages, or JSON under /api."""
    from dsr.errors import register

    register(app)


def register_template_filters(app: Flask) -> None:
    """Add the filters that templates share, such as dates in the configured time zone."""
    from dsr import templating

    templating.init_app(app)


def register_commands(app: Flask) -> None:
    """Add dsr's `flask` commands."""
    from dsr.adapters.commands import sources_cli
    from dsr.audit.commands import audit_cli
    from dsr.auth.commands import tokens_cli, users_cli
    from dsr.corrections.commands import corrections_cli
    from dsr.demo import demo_cli
    from dsr.disclosures.commands import disclosures_cli
    from dsr.engine.commands import requests_cli, workflows_cli
    from dsr.notify.commands import outbox_cli

    for group in (audit_cli, users_cli, tokens_cli, workflows_cli, demo_cli, sources_cli,
                  outbox_cli, requests_cli, corrections_cli, disclosures_cli):
        app.cli.add_command(group)
