"""`flask users` and `flask tokens`: accounts and API tokens from the command line."""

import click
from email_validator import EmailNotValidError, validate_email
from flask.cli import AppGroup
from sqlalchemy import select

from dsr import audit
from dsr.actors import CLI
from dsr.auth import hash_password, two_step
from dsr.database import utcnow
from dsr.extensions import db
from dsr.models import ApiToken, Role, User, UserRole

users_cli = AppGroup("users", help="Manage staff accounts.")
tokens_cli = AppGroup("tokens", help="Manage API tokens.")

MIN_PASSWORD_LENGTH = 12


def _account(email: str) -> User:
    user = db.session.execute(
        select(User).where(User.email == email.strip().lower())
    ).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"No account has the e-mail address {email}.")
    return user


@users_cli.command("create")
@click.argument("email")
@click.option(
    "--role", "roles", multiple=True, required=True,
    type=click.Choice([r.value for r in Role]), help="Repeat for several roles.",
)
@click.password_option(
    "--password", prompt="Password", help="Asked for when not given; at least 12 characters.",
)
def create_user(email: str, roles: tuple[str, ...], password: str) -> None:
    """Create a staff account with one or more roles."""
    try:
        address = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise click.BadParameter(str(error), param_hint="EMAIL") from error
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.BadParameter(
            f"use at least {MIN_PASSWORD_LENGTH} characters", param_hint="--password"
        )
    if db.session.execute(select(User.id).where(User.email == address)).first():
        raise click.ClickException(f"An account with the e-mail address {address} exists.")
    user = User(email=address, password_hash=hash_password(password))
    user.roles = [UserRole(role=role) for role in sorted(set(roles))]
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", actor=CLI, user_id=user.id, roles=sorted(set(roles)))
    db.session.commit()
    click.echo(f"Created account {user.id} with the role(s) {', '.join(sorted(set(roles)))}.")


@users_cli.command("list")
def list_users() -> None:
    """List the accounts with their roles and whether they may sign in."""
    for user in db.session.execute(select(User).order_by(User.email)).scalars():
        status = "active" if user.active else "deactivated"
        click.echo(f"{user.email:<40} {','.join(sorted(user.role_names)):<20} {status}")


@users_cli.command("deactivate")
@click.argument("email")
def deactivate_user(email: str) -> None:
    """Stop an account from signing in and using its API tokens (its history stays)."""
    user = _account(email)
    user.active = False
    user.end_sessions()
    audit.record("user.deactivated", actor=CLI, user_id=user.id)
    db.session.commit()
    click.echo(f"Deactivated account {user.id}; it can no longer sign in or use its tokens.")


@users_cli.command("reset-two-step")
@click.argument("email")
def reset_two_step(email: str) -> None:
    """Take an account's two-step sign-in away (a lost device, no recovery codes left): it
    sets one up again at its next sign-in, where its roles require it."""
    user = _account(email)
    two_step.reset(user)
    audit.record("user.two_step_reset", actor=CLI, user_id=user.id)
    db.session.commit()
    click.echo(f"Two-step sign-in of account {user.id} reset; its sessions are ended.")


@tokens_cli.command("create")
@click.argument("email")
def create_token(email: str) -> None:
    """Issue an API token for an account and print it on the last line (it is shown once)."""
    user = _account(email)
    row, token = ApiToken.issue(user)
    db.session.add(row)
    db.session.flush()
    audit.record("token.created", actor=CLI, user_id=user.id, token_id=row.id)
    db.session.commit()
    click.echo("Store this token now; dsr keeps only its hash and cannot show it again:")
    click.echo(token)


@tokens_cli.command("revoke")
@click.argument("email")
def revoke_tokens(email: str) -> None:
    """Revoke every API token of an account."""
    user = _account(email)
    tokens = db.session.execute(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).scalars().all()
    for token in tokens:
        token.revoked_at = utcnow()
        audit.record("token.revoked", actor=CLI, user_id=user.id, token_id=token.id)
    db.session.commit()
    click.echo(f"Revoked {len(tokens)} token(s).")
