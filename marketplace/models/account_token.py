"""Single-use links mailed to a user (password reset, e-mail confirmation).

Only the SHA-256 of a token is stored, so a copy of the database opens no account; the token itself
is random and says nothing about the user or the password.
"""

import hashlib
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.models.base import Base, enum_column, utcnow


class TokenPurpose(StrEnum):
    PASSWORD_RESET = "password_reset"
    EMAIL_CONFIRMATION = "email_confirmation"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountToken(Base):
    """One mailed link: whose, what for, until when, and whether it was used."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[TokenPurpose] = enum_column(TokenPurpose)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user = relationship("User")

    def is_usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at
