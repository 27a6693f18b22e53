"""`flask demo seed`: demo accounts, one per role, and a few requests to try the console on."""

import secrets
import threading
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from dsr import audit, engine
from dsr.actors import CLI, SUBJECT, SYSTEM, Actor
from dsr.auth import hash_password
from dsr.database import utcnow
from dsr.demo.sources import company_folder, ensure_company
from dsr.extensions import db
from dsr.models import Request, Role, User, UserRole

demo_cli = AppGroup("demo", help="Demo data for trying dsr out.")

DEMO_DOMAIN = "demo.example.org"

# Subjects at example.com (a reserved domain: no e-mail ever reaches a real person), how many
# days ago each asked, and the triggers that bring each request to where it stands.
DEMO_REQUESTS = [
    ("access", "ana.lima@example.com", "Ana Lima", 2, []),
    ("access", "bram.de.vries@example.com", "Bram de Vries", 9, ["verify"]),
    ("access", "chloe.martin@example.com", "Chloé Martin", 20, ["verify", "start_collection"]),
    ("access", "dawit.bekele@example.com", "Dawit Bekele", 27,
     ["verify", "start_collection", "finish_collection"]),
    ("correction", "eva.novak@example.com", "Eva Novák", 5, ["verify"]),
    ("correction", "farid.haddad@example.com", "Farid Haddad", 12, ["verify", "start_review"]),
    ("access", "greta.olsen@example.com", "Greta Olsen", 40,
     ["verify", "start_collection", "finish_collection", "approve", "release"]),
]


def ensure_demo_users() -> list[tuple[str, str]]:
    """Create or reset one account per role with a fresh random password; return them."""
    credentials = []
    for role in Role:
        email = f"{role.value}@{DEMO_DOMAIN}"
        password = secrets.token_urlsafe(12)
        user = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
        if user is None:
            user = User(email=email, password_hash="", roles=[UserRole(role=role.value)])
            db.session.add(user)
        user.password_hash = hash_password(password)
        db.session.flush()
        audit.record("user.demo_password_set", actor=CLI, user_id=user.id)
        credentials.append((email, password))
    return credentials


def ensure_demo_requests(staff: User) -> int:
    """Create the demo requests unless they exist; return how many were created."""
    if db.session.execute(select(Request.id).limit(1)).first():
        return 0
    actor = Actor.for_user(staff)
    for kind, email, name, days_ago, triggers in DEMO_REQUESTS:
        case = engine.open_request(
            kind, actor=SUBJECT, requester_email=email, requester_name=name,
            received_at=utcnow() - timedelta(days=days_ago),
        )
        for trigger in triggers:
            doer = SUBJECT if trigger == "verify" else SYSTEM if trigger == "release" else actor
            engine.fire(case, trigger, actor=doer)
    return len(DEMO_REQUESTS)


@demo_cli.command("seed")
@click.option("--rebuild", is_flag=True, help="Build the demo company's databases anew.")
def seed(rebuild: bool) -> None:
    """Create the demo accounts and requests (again: resets the demo passwords only) and, with
    DEMO on, the demo company's databases."""
    if current_app.config["DEMO"] and ensure_company(current_app.instance_path, rebuild):
        click.echo(f"Demo company built in {company_folder(current_app.instance_path)}.")
    credentials = ensure_demo_users()
    staff = db.session.execute(
        select(User).where(User.email == f"staff@{DEMO_DOMAIN}")
    ).scalar_one()
    created = ensure_demo_requests(staff)
    db.session.commit()
    click.echo(f"Demo requests created: {created}.")
    click.echo("Demo accounts (new passwords on every seed; sign in at /staff/sign-in):")
    for email, password in credentials:
        click.echo(f"  {email:<28} {password}")


@demo_cli.command("standins")
def standins() -> None:
    """Serve the demo company's WHMCS, Matomo and Kayako stand-ins on 127.0.0.1 until stopped."""
    from dsr.demo import sources
    from dsr.demo.standins import serve
    from dsr.demo.standins.kayako import create_kayako
    from dsr.demo.standins.matomo import create_matomo
    from dsr.demo.standins.whmcs import create_whmcs

    folder = company_folder(current_app.instance_path)
    ensure_company(current_app.instance_path)
    ports = sources.STANDIN_PORTS
    running = [
        serve(create_whmcs(folder / "billing.sqlite", *sources.WHMCS_CREDENTIALS),
              ports["whmcs"]),
        serve(create_matomo(folder / "analytics.sqlite", sources.MATOMO_TOKEN),
              ports["matomo"]),
        serve(create_kayako(folder / "helpdesk.sqlite", *sources.KAYAKO_KEYS),
              ports["kayako"]),
    ]
    click.echo("Stand-ins: " + ", ".join(f"{n} {r.url}" for n, r in zip(ports, running,
                                                                          strict=True)))
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        for server in running:
            server.stop()
