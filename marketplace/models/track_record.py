"""Investors' track records: earlier green-finance deals, entered, imported or closed here."""

from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.models.base import Base, TimestampMixin, enum_column


class TrackSource(StrEnum):
    MANUAL = "manual"
    IMPORT = "import"
    PLATFORM = "platform"


class TrackRecordDeal(TimestampMixin, Base):
    """One deal an investor organisation financed; the record is shared by all its products."""

    __tablename__ = "track_record_deals"
    __table_args__ = (
        # The same deal twice (normalised fields) is one deal: re-importing a file adds nothing.
        UniqueConstraint("organisation_id", "dedupe_key"),
        CheckConstraint(
            "sector IS NOT NULL OR technology IS NOT NULL", name="sector_or_technology"
        ),
        CheckConstraint("amount_usd IS NULL OR amount_usd > 0", name="amount_positive"),
        CheckConstraint("year >= 1990", name="year_from_1990"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    country_iso2: Mapped[str | None] = mapped_column(ForeignKey("countries.iso2"), index=True)
    sector: Mapped[str | None] = mapped_column(String(32))
    technology: Mapped[str | None] = mapped_column(String(32), index=True)
    year: Mapped[int] = mapped_column(Integer)
    amount_usd: Mapped[Decimal | None]
    co_financiers: Mapped[list] = mapped_column(default=list)
    source: Mapped[TrackSource] = enum_column(TrackSource, default=TrackSource.MANUAL)
    # A deal closed on the platform is added once, from its match.
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id"), unique=True)
    dedupe_key: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    organisation = relationship("Organisation")
    created_by = relationship("User")
