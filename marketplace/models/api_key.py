"""Personal API keys: a user's bearer tokens for the JSON API, stored only as a digest."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from marketplace.models.base import Base, utcnow


class ApiKey(Base):
    """One key of one user; it acts with that user's rights, within its scopes."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    # The first characters of the key, shown in lists so that its owner can tell keys apart.
    prefix: Mapped[str] = mapped_column(String(16))
    # SHA-256 of the whole key. A key holds 256 random bits, so no guessing can reach it and a
    # fast digest is enough (a password needs a slow one because people choose guessable ones);
    # a fast digest lets every request find its key with one indexed lookup.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(32))  # "read" or "read write"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    # A backref keeps the User model (and its migrations) untouched by this aggregate.
    user = relationship("User", backref=backref("api_keys", lazy="dynamic"))

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def has_scope(self, scope: str) -> bool:
        """ "read" for reading, "write" for changes; a key that may write may also read."""
        granted = self.scope_list
        return scope in granted or (scope == "read" and "write" in granted)
