"""Staff accounts, their roles and their API tokens."""

import enum
import hashlib
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.database import Base, UTCDateTime, utcnow


class Role(enum.StrEnum):
    """What a staff account may do; an account may hold several roles."""

    STAFF = "staff"
    LEGAL = "legal"
    ADMIN = "admin"


def new_session_token() -> str:
    """Return a fresh random session token."""
    return secrets.token_hex(16)


class User(UserMixin, Base):
    """A person of the company who signs in to the console."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # Part of the session cookie's id: a new value signs the account out everywhere.
    session_token: Mapped[str] = mapped_column(String(32), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Two-step sign-in (dsr.auth.two_step): the TOTP secret once set up, and the last time
    # step a code was taken for, so that a code works once.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    roles: Mapped[list["UserRole"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", back_populates="user"
    )

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        """Flask-Login's session id: the account and its current session token."""
        return f"{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        """Invalidate every session of this account (sign-out, deactivation)."""
        self.session_token = new_session_token()

    @property
    def role_names(self) -> frozenset[str]:
        """The names of the roles this account holds."""
        return frozenset(r.role for r in self.roles)

    def has_role(self, *roles: str) -> bool:
        """Tell whether the account holds any of `roles`."""
        return not self.role_names.isdisjoint(roles)


class UserRole(Base):
    """One role held by one account."""

    __tablename__ = "user_roles"
    __table_args__ = (
        CheckConstraint("role IN ('staff', 'legal', 'admin')", name="known_role"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    user: Mapped[User] = relationship(back_populates="roles")


class RecoveryCode(Base):
    """A single-use code that stands in for a TOTP code when the device is lost; its hash."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def hash_token(token: str) -> str:
    """Return the stored form of an API token (tokens are random, so a fast hash suffices)."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(Base):
    """A bearer token for the JSON API; only its hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user: Mapped[User] = relationship(lazy="joined")

    @classmethod
    def issue(cls, user: User) -> tuple["ApiToken", str]:
        """Make a token for `user`; return the row and the token, which is shown once."""
        token = "dsr_" + secrets.token_urlsafe(32)
        return cls(user=user, token_hash=hash_token(token)), token
