"""A user's second factor: the authenticator-app secret and the one-time recovery codes."""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from marketplace.models.base import Base, utcnow


class MfaCredential(Base):
    """The TOTP secret of one user; confirmed once the user has typed a code it produced."""

    __tablename__ = "mfa_credentials"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    # Base32 (RFC 4648), as authenticator apps read it; needed in clear to compute the codes.
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    # The 30-second time step of the last accepted code: a code of this step or an older one is
    # refused, so a code seen over a shoulder or in a proxy log cannot be used a second time.
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)

    # A backref keeps the User model (and its migrations) untouched by this aggregate.
    user = relationship("User", backref=backref("mfa_credential", uselist=False))

    @property
    def is_enabled(self) -> bool:
        return self.confirmed_at is not None


class RecoveryCode(Base):
    """One single-use code that stands in for the authenticator, stored only as a hash."""

    __tablename__ = "mfa_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]
