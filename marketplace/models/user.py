"""People who sign in, each with one role and one organisation."""

import secrets
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from marketplace.models.base import Base, TimestampMixin, enum_column


class Role(StrEnum):
    OWNER = "owner"
    INVESTOR = "investor"
    BROKER = "broker"
    ADMIN = "admin"


def new_session_token() -> str:
    """A fresh random id for Flask-Login; rotating it ends every session of the user."""
    return secrets.token_urlsafe(32)


class User(UserMixin, TimestampMixin, Base):
    """An account. The email is stored lower-case so it is unique case-insensitively."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = enum_column(Role, index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    locale: Mapped[str] = mapped_column(String(10), default="en")
    active: Mapped[bool] = mapped_column(default=True)
    email_confirmed: Mapped[bool] = mapped_column(default=False)
    last_login_at: Mapped[datetime | None]
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)

    organisation = relationship(
        "Organisation", back_populates="users", foreign_keys=[organisation_id]
    )

    @staticmethod
    def normalise_email(email: str) -> str:
        return email.strip().lower()

    def set_password(self, password: str) -> None:
        """Hash with scrypt (memory-hard) and end all existing sessions."""
        self.password_hash = generate_password_hash(password, method="scrypt")
        self.rotate_session_token()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def rotate_session_token(self) -> None:
        self.session_token = new_session_token()

    def get_id(self) -> str:
        # Flask-Login's alternative token: the cookie holds this, never the primary key.
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.active

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles
