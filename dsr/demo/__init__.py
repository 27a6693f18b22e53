"""`flask demo seed`: demo accounts, one per role, and a few requests to try the console on."""

import secrets
import threading
from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from dsr import audit, corrections, deadlines, disclosures, engine
from dsr.actors import CLI, SUBJECT, Actor
from dsr.auth import hash_password
from dsr.categories import Category
from dsr.corrections import Proposal
from dsr.database import utcnow
from dsr.demo import company
from dsr.demo.sources import company_folder, ensure_company
from dsr.extensions import db
from dsr.models import PolicyVersion, Request, Role, User, UserRole

demo_cli = AppGroup("demo", help="Demo data for trying dsr out.")

DEMO_DOMAIN = "demo.example.org"

# Requests by the demo company's customers (their addresses are at example.com, a reserved
# domain: no e-mail ever reaches a real person): the customer's number, how many days ago they
# asked, and the triggers that bring the request to where it stands. Confirmed access
# requests wait for staff to start collection, which asks the demo company's systems.
DEMO_REQUESTS = [
    ("access", company.MENTIONING, 3, ["verify"]),
    ("access", company.SHARED_IP_A, 26, ["verify"]),
    ("access", company.SEVERAL_EMAILS, 10, ["verify"]),
    ("access", 7, 1, []),
    ("correction", 9, 5, ["verify"]),
    ("correction", 11, 12, ["verify"]),
    ("access", 13, 40, ["verify", "reject"]),
]
REJECTION = "The same request was answered in full two weeks ago (GDPR Art. 12(5))."
# What the demo correction requests propose, by customer number.
DEMO_CHANGES = {
    9: [Proposal(Category.PHONE, "+49 30 90182600", current="+49 30 6175466",
                 why="My number changed.")],
    11: [Proposal(Category.COMPANY, "Rosa Studio GmbH", current="Rosa Studio",
                  why="We became a GmbH."),
         Proposal(Category.NAME, "Janssen", current="Jansen", why="My surname has two s.")],
}


# Accounts: one per role, and a second legal officer, since disclosures are approved by
# someone other than who opened them.
DEMO_ACCOUNTS = [(role.value, role.value) for role in Role] + [("counsel", Role.LEGAL.value)]
# Disclosure records: authority, country, instrument, customer number, days ago, state, and
# for those disclosed the records handed over. Two wait for legal; the rest fill the
# transparency report.
DEMO_DISCLOSURES = [
    ("Landeskriminalamt Berlin", "DE", "court_order", company.MENTIONING, 2, "legal_review", 0),
    ("Police Nationale, OCLCTIC", "FR", "emergency", 21, 0, "received", 0),
    ("Staatsanwaltschaft München I", "DE", "production_order", 23, 60, "closed", 9),
    ("Federal Bureau of Investigation", "US", "subpoena", 25, 120, "refused", 0),
    ("Politie Nederland", "NL", "mlat", 27, 200, "closed", 0),
    ("Landeskriminalamt Hamburg", "DE", "search_warrant", 29, 90, "withdrawn", 0),
]
DEMO_REFUSAL = "A US subpoena has no force here; the authority was pointed to the MLAT route."


def ensure_demo_users() -> list[tuple[str, str]]:
    """Create or reset the demo accounts with fresh random passwords; return them."""
    credentials = []
    for name, role_name in DEMO_ACCOUNTS:
        role = Role(role_name)
        email = f"{name}@{DEMO_DOMAIN}"
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
    people = company.customers(max(number for _, number, _, _ in DEMO_REQUESTS))
    for kind, number, days_ago, triggers in DEMO_REQUESTS:
        person = people[number - 1]
        case = engine.open_request(
            kind, actor=SUBJECT, requester_email=person.email,
            requester_name=f"{person.first} {person.last}",
            received_at=utcnow() - timedelta(days=days_ago),
        )
        if kind == "correction":
            corrections.propose(case, DEMO_CHANGES[number])
        for trigger in triggers:
            if trigger == "verify":
                engine.fire(case, "verify", actor=SUBJECT)
                # As if confirmed an hour after asking, so that deadlines differ in the demo.
                case.verified_at = case.received_at + timedelta(hours=1)
                case.due_at = deadlines.due_at(case.verified_at)
            elif trigger == "reject":
                engine.fire(case, "reject", actor=actor, reason=REJECTION)
            else:
                engine.fire(case, trigger, actor=actor)
    ensure_demo_disclosures()
    return len(DEMO_REQUESTS)


def ensure_demo_disclosures() -> None:
    """Put the demo disclosure records in the register, as legal would have left them."""
    opener = db.session.execute(
        select(User).where(User.email == f"legal@{DEMO_DOMAIN}")).scalar_one()
    people = company.customers(max(row[3] for row in DEMO_DISCLOSURES))
    for authority, country, instrument, number, days_ago, state, records in DEMO_DISCLOSURES:
        person = people[number - 1]
        received = utcnow() - timedelta(days=days_ago, hours=1)
        case = disclosures.open_disclosure(disclosures.Intake(
            received_at=received, channel="email", authority=authority, officer="", contact="",
            country=country, authenticity_check="Called back on the authority's published "
                                                "number.",
            authenticity_result="confirmed", instrument=instrument,
            citation=f"Demo {instrument.replace('_', ' ')} {number}/26",
            emergency=instrument == "emergency",
            targets=[{"kind": "email", "value": person.email}], range_from=None,
            range_to=None, data_types=["subscriber"]), actor=CLI, user_id=opener.id)
        case.state = state
        record = disclosures.record_of(case)
        if state == "refused":
            case.decision_reason = DEMO_REFUSAL
        if state == "closed":
            record.approved_targets, record.approved_types = record.targets, ["subscriber"]
            record.manifest = {"categories": {"name": records}, "records": records}
            record.accounts = int(records > 0)
            record.delivery, record.delivered_at = "secure_portal", received + timedelta(days=5)
            record.notified_at = received + timedelta(days=6)


# The demo company's privacy policy as it stood before dsr, version 1 of the policy pages.
POLICY = Path(__file__).with_name("privacy-policy.md")


def ensure_demo_policy(admin: User) -> bool:
    """Publish the demo company's policy as version 1, in force since the demo's first day,
    unless a version is published; return whether it was."""
    if db.session.execute(select(PolicyVersion.id).where(PolicyVersion.number.is_not(None))
                          .limit(1)).first():
        return False
    db.session.add(PolicyVersion(
        number=1, text=POLICY.read_text(encoding="utf-8"), created_by=admin.id,
        summary="The policy as it stood when this service opened.",
        effective_on=company.EPOCH.date(), created_at=company.EPOCH,
        published_at=company.EPOCH, published_by=admin.id))
    audit.record("policy.published", actor=CLI, code="v1")
    return True


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
    ensure_demo_policy(db.session.execute(
        select(User).where(User.email == f"admin@{DEMO_DOMAIN}")).scalar_one())
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
    click.echo(f"To ask as the demo visitor ({company.VISITOR_EMAIL}), open {running[1].url}"
               "/website in the browser first: it leaves their analytics cookie.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        for server in running:
            server.stop()
