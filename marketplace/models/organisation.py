"""Organisations: sponsors, investors and broker firms."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.models.base import Base, TimestampMixin, enum_column


class OrgKind(StrEnum):
    SPONSOR = "sponsor"
    INVESTOR = "investor"
    BROKER_FIRM = "broker_firm"


class Hub(StrEnum):
    BEIJING = "beijing"
    HONG_KONG = "hong_kong"
    OTHER = "other"


class VerificationStatus(StrEnum):
    UNVERIFIED = "unverified"
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class MembershipStatus(StrEnum):
    NONE = "none"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    LAPSED = "lapsed"


class Organisation(TimestampMixin, Base):
    """A legal entity that users act for."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[OrgKind] = enum_column(OrgKind)
    hub: Mapped[Hub] = enum_column(Hub, default=Hub.OTHER)
    country_iso2: Mapped[str] = mapped_column(String(2))
    description: Mapped[str | None] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(String(300))
    verification_status: Mapped[VerificationStatus] = enum_column(
        VerificationStatus, default=VerificationStatus.UNVERIFIED
    )
    verification_reason: Mapped[str | None] = mapped_column(Text)
    verified_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", use_alter=True, name="fk_organisations_verified_by_id_users")
    )
    verified_at: Mapped[datetime | None]
    membership_status: Mapped[MembershipStatus] = enum_column(
        MembershipStatus, default=MembershipStatus.NONE
    )
    membership_until: Mapped[datetime | None]
    stripe_customer_id: Mapped[str | None] = mapped_column(String(64), unique=True)

    users = relationship("User", back_populates="organisation", foreign_keys="User.organisation_id")

    @property
    def is_verified(self) -> bool:
        return self.verification_status == VerificationStatus.VERIFIED

    @property
    def has_membership(self) -> bool:
        return self.membership_status == MembershipStatus.ACTIVE
