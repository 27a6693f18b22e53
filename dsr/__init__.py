"""dsr: a data-subject-rights request engine, as a Flask application."""

import os
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

from dsr.settings import ConfigError, load_config
from dsr.web import logs

__all__ = ["ConfigError", "create_app"]

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, error pages and commands."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        instance_path=os.environ.get("DSR_INSTANCE_PATH") or str(ROOT / "instance"),
    )
    load_config(app, test_config)
    logs.install()
    register_extensions(app)
    register_sources(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_filters(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions of dsr.extensions to this app."""
    from sqlalchemy import event

    from dsr import jobs
    from dsr.audit import keys as audit_keys
    from dsr.audit import witness
    from dsr.auth import load_user
    from dsr.database import tune_sqlite
    from dsr.extensions import csrf, db, limiter, login_manager, migrate
    from dsr.web import headers

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", tune_sqlite)
    migrate.init_app(app, db, directory=str(ROOT / "dsr" / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    if app.config["PROXY_FIX_X_FOR"]:
        hops = app.config["PROXY_FIX_X_FOR"]  # the proxies' address and scheme are trusted
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Please sign in to continue."
    login_manager.session_protection = "strong"
    login_manager.user_loader(load_user)
    jobs.init_app(app)
    audit_keys.load(app)
    witness.init_app(app)
    headers.init_app(app)


def register_sources(app: Flask) -> None:
    """Build every configured source's adapter; a misconfigured one stops start-up."""
    from dsr.adapters.registry import sources_for
    from dsr.demo.sources import DSR_REGISTER, demo_sources

    demo = app.config["DEMO"]
    config = app.config["SOURCES"] or (demo_sources(app.instance_path) if demo else {})
    register = app.config["DSR_REGISTER"] or (DSR_REGISTER if demo else None)
    app.extensions["dsr.sources"] = sources_for(app, config, register)


class IdConverter(IntegerConverter):
    """A row id in a URL: a number that fits a database integer; a bigger one is a 404."""

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, max=2**31 - 1)


def register_blueprints(app: Flask) -> None:
    """Mount the web and API blueprints."""
    app.url_map.converters["id"] = IdConverter
    from dsr.admin.views import blueprint as admin
    from dsr.api.views import blueprint as api
    from dsr.auth.views import blueprint as auth
    from dsr.console.review import blueprint as review
    from dsr.console.views import blueprint as console
    from dsr.extensions import csrf
    from dsr.legal.views import blueprint as legal
    from dsr.notify.views import blueprint as mailbox
    from dsr.portal.subject import blueprint as subject
    from dsr.portal.views import blueprint as portal

    app.register_blueprint(portal)
    app.register_blueprint(subject)
    app.register_blueprint(auth)
    app.register_blueprint(console)
    app.register_blueprint(review)
    app.register_blueprint(legal)
    app.register_blueprint(admin)
    # The API authenticates with bearer tokens, never with the session cookie, so a forged
    # cross-site form cannot use it: CSRF tokens have nothing to protect there.
    csrf.exempt(api)
    app.register_blueprint(api)
    if mailbox_enabled(app):
        app.register_blueprint(mailbox)


def mailbox_enabled(app: Flask) -> bool:
    """Show the development mailbox only in the demo (and tests), where no mail leaves and
    nobody real is involved; it answers only on the loopback (dsr.notify.views)."""
    return bool((app.config["DEMO"] or app.testing) and not app.config["MAIL_SERVER"])


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
    from dsr.adapters.commands import register_cli, sources_cli
    from dsr.audit.commands import audit_cli
    from dsr.auth.commands import tokens_cli, users_cli
    from dsr.corrections.commands import corrections_cli
    from dsr.demo import demo_cli
    from dsr.disclosures.commands import disclosures_cli
    from dsr.engine.commands import workflows_cli
    from dsr.jobs.commands import jobs_cli
    from dsr.notify.commands import outbox_cli
    from dsr.retention.commands import retention_cli
    from dsr.subjects.commands import requests_cli
    from dsr.web.serve import serve

    for group in (audit_cli, users_cli, tokens_cli, workflows_cli, demo_cli, sources_cli,
                  outbox_cli, requests_cli, corrections_cli, disclosures_cli, jobs_cli,
                  register_cli, retention_cli, serve):
        app.cli.add_command(group)
